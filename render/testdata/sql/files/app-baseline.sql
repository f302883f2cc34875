-- baseline of database app (runs only in the run that creates it)
CREATE TABLE app.baseline_marker (id int PRIMARY KEY, note text);
INSERT INTO app.baseline_marker VALUES (1, 'created once');
