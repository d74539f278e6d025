package mysqlproto

// CloseConnection closes the connection with the given id, as KILL
// CONNECTION does: its running statement's ctx is cancelled and its socket
// closed, so its goroutine ends and the session's Close is called. It
// reports whether such a connection was live.
func (s *Server) CloseConnection(id uint32) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		if c.id == id {
			c.cancel()
			_ = c.nc.Close()
			return true
		}
	}
	return false
}
