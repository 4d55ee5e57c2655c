package web

import (
	"net/http"

	"github.com/healthcode/healthcode/internal/codes"
	"github.com/healthcode/healthcode/internal/idnum"
)

func (s *Server) scanRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /scan", s.public(s.scanPage))
}

type scanData struct {
	Strings map[string]string
	Reasons map[string]string
	// Errors are the catalogue's lines of the API's error codes, so that a
	// refusal (a mistyped ID number) reads in the page's language.
	Errors map[string]string
	Types  []idnum.Type
	Offset int // minutes east of UTC of the deployment's zone
}

// scanPage is the checkpoint scanner. It is a shell: the checkpoint's API
// key stays in the browser (localStorage) and the page's script calls
// POST /api/v1/verify itself, so the key is never part of a page request
// and never appears in a server log.
func (s *Server) scanPage(w http.ResponseWriter, r *http.Request, p *page) error {
	p.Title, p.Body = p.T("scan.title"), "scan"
	d := scanData{Strings: p.Lang.subset("js."), Reasons: map[string]string{}, Errors: p.Lang.subset("err."),
		Types: idnum.Types()}
	// The scanner says why in the same words every device uses.
	for _, x := range codes.Reasons() {
		if t, ok := codes.ReasonText(x); ok {
			d.Reasons[x] = label(p.Lang, t)
		}
	}
	_, off := s.now().In(s.Config.Location).Zone()
	d.Offset = off / 60
	p.Data = d
	s.render(w, r, http.StatusOK, "scan", p)
	return nil
}
