package web

import (
	"net/http"

	"github.com/healthcode/healthcode/internal/idnum"
)

func (s *Server) scanRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /scan", s.public(s.scanPage))
}

type scanData struct {
	Strings map[string]string
	Types   []idnum.Type
}

// scanPage is the checkpoint scanner. It is a shell: the checkpoint's API
// key stays in the browser (localStorage) and the page's script calls
// POST /api/v1/verify itself, so the key is never part of a page request
// and never appears in a server log.
func (s *Server) scanPage(w http.ResponseWriter, r *http.Request, p *page) error {
	p.Title, p.Body = p.T("scan.title"), "scan"
	p.Data = scanData{Strings: p.Lang.subset("js."), Types: idnum.Types()}
	s.render(w, r, http.StatusOK, "scan", p)
	return nil
}
