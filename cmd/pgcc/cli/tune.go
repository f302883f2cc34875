package cli

func (e *env) tune(args []string) int {
	return e.usageErr("tune: not wired yet")
}
