package failpoint

import (
	"fmt"
	"net/http"
)

// Handler serves /api/debug/failpoints: GET lists the armed points (one
// name=action a line), POST ?name=N&action=A arms one (A as in
// STRATA_FAILPOINTS: crash, error, enospc, off, optionally ",count:N").
// With enabled false (a server started without --enable-failpoints) every
// request is refused with 403 Forbidden.
func Handler(enabled bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !enabled {
			http.Error(w, "failpoints are disabled: start the server with --enable-failpoints", http.StatusForbidden)
			return
		}
		switch r.Method {
		case http.MethodGet:
		case http.MethodPost, http.MethodPut:
			name := r.URL.Query().Get("name")
			spec, err := ParseSpec(r.URL.Query().Get("action"))
			if err == nil {
				err = Arm(name, spec)
			}
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
		default:
			w.Header().Set("Allow", "GET, POST")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		for name, spec := range Armed() {
			fmt.Fprintf(w, "%s=%s\n", name, spec)
		}
	})
}
