package kamcfg

// TEMPORARY until settings.go lands.
type Settings struct{}

func resolveSettings(mods []LoadModule, params []ModParam, rundir string) (Settings, []Diagnostic) {
	return Settings{}, nil
}
