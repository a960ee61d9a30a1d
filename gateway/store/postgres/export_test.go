package postgres

// URLOf is the URL s was opened with, for tests that look at its tables.
func URLOf(s *Store) string { return s.pool.Config().ConnString() }
