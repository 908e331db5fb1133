package profile

// Settings is the settings file of one environment: where it is, and the
// few ways the commands read and change it. Every change goes through
// Update, so that a write keeps what other processes wrote meanwhile.
type Settings struct {
	path string
	err  error // why there is no path; reported on use, not on creation
	// Warn, when set, is told what Load put right (Config.Warnings).
	Warn func(msg string)
}

// NewSettings is the settings file at DefaultPath(getenv).
func NewSettings(getenv func(string) string) *Settings {
	path, err := DefaultPath(getenv)
	return &Settings{path: path, err: err}
}

// SettingsAt is the settings file at path.
func SettingsAt(path string) *Settings { return &Settings{path: path} }

// Path is the file's path ("" when none could be found).
func (s *Settings) Path() string { return s.path }

// Load reads the whole file; a missing file is an empty Config.
func (s *Settings) Load() (*Config, error) {
	if s.err != nil {
		return nil, s.err
	}
	cfg, err := Load(s.path)
	if err == nil && s.Warn != nil {
		for _, w := range cfg.Warnings {
			s.Warn(w)
		}
	}
	return cfg, err
}

// Get reads one profile's settings; nil (and no error) when there are none.
func (s *Settings) Get(name string) (*Profile, *Config, error) {
	cfg, err := s.Load()
	if err != nil {
		return nil, nil, err
	}
	return cfg.Get(name), cfg, nil
}

// Update applies change to the file as it is now, under its lock.
func (s *Settings) Update(change func(*Config)) error {
	if s.err != nil {
		return s.err
	}
	return Update(s.path, change)
}

// Save records one profile's settings, leaving the others as they are in
// the file now.
func (s *Settings) Save(p *Profile) error {
	return s.Update(func(c *Config) { c.Set(p) })
}

// Select names the profiles a command works on: name, or with all, every
// profile in cfg.
func (c *Config) Select(name string, all bool) []string {
	if all {
		return c.Names()
	}
	return []string{name}
}
