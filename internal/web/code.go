package web

import (
	"errors"
	"net/http"
	"time"

	qrcode "github.com/skip2/go-qrcode"

	"github.com/healthcode/healthcode/internal/codes"
	"github.com/healthcode/healthcode/internal/person"
)

func (s *Server) codeRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /me", s.resident(s.mePage))
	mux.HandleFunc("GET /me/card", s.resident(s.meCard))
	mux.HandleFunc("GET /me/dependents/{id}/care", s.resident(s.carePage))
	mux.HandleFunc("POST /me/dependents/{id}/care", s.resident(s.issueCare))
	mux.HandleFunc("GET /me/dependents/{id}/care/{cid}", s.resident(s.carePrint))
	mux.HandleFunc("POST /me/dependents/{id}/care/{cid}/revoke", s.resident(s.revokeCare))
}

// codeQR is the QR level of codes, as the API's PNG draws them: level Q,
// for scratched and glaring phone screens.
const codeQR = qrcode.High

// card is the part of the code page that refreshes: the QR, the colour,
// the clock and what to do when the colour is not green.
type card struct {
	For        string // dependent's person id, "" for oneself
	Color      string
	Name       string
	QR         string
	Code       string
	IssuedAt   time.Time
	ExpiresAt  time.Time
	NowMillis  int64
	ExpMillis  int64
	Margin     int64 // refresh this many ms before expiry
	Offset     int   // minutes east of UTC of the deployment's zone
	RefreshURL string
	Status     *statusView
}

type codePage struct {
	Card   card
	People []personTab
	Self   bool
}

type personTab struct {
	ID, Name, Href string
	Current        bool
}

// refreshMargin is how long before expiry the page fetches a new code: a
// quarter of the lifetime, at most 30 s, so a slow network still makes it.
func refreshMargin(ttl time.Duration) time.Duration {
	return min(ttl/4, 30*time.Second)
}

// issue makes the card of the account's own code, or of a dependent's.
func (s *Server) issue(r *http.Request, p *page, accountID, depID string) (card, error) {
	var iss codes.Issued
	var err error
	var pr person.Profile
	if depID == "" {
		if pr, err = s.Persons.Profile(r.Context(), accountID); err != nil {
			return card{}, err
		}
	} else {
		var dep *person.Person
		if dep, err = s.Persons.Dependent(r.Context(), accountID, depID); err != nil {
			return card{}, err
		}
		pr = dep.Profile()
	}
	if iss, err = s.Codes.Dynamic(pr); err != nil {
		return card{}, err
	}
	num := pr.Num
	c := card{For: depID, Color: iss.Color.String(), Name: iss.MaskedName, Code: iss.Code, IssuedAt: iss.IssuedAt, ExpiresAt: iss.ExpiresAt}
	if c.QR, err = qrSVGSized(iss.Code, codeQR, p.T("code.qr_label", iss.MaskedName), 4); err != nil {
		return card{}, err
	}
	now := s.now()
	_, off := now.In(s.Config.Location).Zone()
	c.NowMillis, c.ExpMillis, c.Offset = now.UnixMilli(), iss.ExpiresAt.UnixMilli(), off/60
	c.Margin = refreshMargin(s.Codes.Config().TTL).Milliseconds()
	c.RefreshURL = withQuery("/me/card", "for", depID)
	if c.Status, err = s.statusOf(r, p, num, depID == ""); err != nil {
		return card{}, err
	}
	return c, nil
}

func (s *Server) mePage(w http.ResponseWriter, r *http.Request, p *page) error {
	depID := r.URL.Query().Get("for")
	c, err := s.issue(r, p, p.Resident.ID, depID)
	if errors.Is(err, person.ErrNotRegistered) {
		redirect(w, r, "/register")
		return nil
	}
	if err != nil {
		return err
	}
	d := codePage{Card: c, Self: depID == ""}
	if d.People, err = s.peopleTabs(r, p, "/me", depID); err != nil {
		return err
	}
	p.Title, p.Data, p.MoreLinks = p.T("me.title"), d, s.moreList()
	if !d.Self {
		p.Title = p.T("me.title_for", c.Name)
	}
	s.render(w, r, http.StatusOK, "me", p)
	return nil
}

// meCard is a fresh card, for the page's script to swap in before the
// shown code expires.
func (s *Server) meCard(w http.ResponseWriter, r *http.Request, p *page) error {
	c, err := s.issue(r, p, p.Resident.ID, r.URL.Query().Get("for"))
	if err != nil {
		return err
	}
	p.Data = codePage{Card: c}
	s.renderNamed(w, r, http.StatusOK, "me", "card", p)
	return nil
}

type careData struct {
	Person dependentView
	Codes  []*codes.CareCode
	Code   *codes.CareCode
	QR     string
	Back   string
}

func (s *Server) dependentOf(r *http.Request, p *page) (*person.Person, error) {
	return s.Persons.Dependent(r.Context(), p.Resident.ID, r.PathValue("id"))
}

func (s *Server) carePage(w http.ResponseWriter, r *http.Request, p *page) error {
	dep, err := s.dependentOf(r, p)
	if err != nil {
		return err
	}
	cs, err := s.Codes.CareCodes(r.Context(), dep.Num)
	if err != nil {
		return err
	}
	p.Title = p.T("care.title_for", dep.Masked().Name)
	p.Data = careData{Person: dependentView{Masked: dep.Masked(), RegionName: s.Regions.FullName(dep.Region)}, Codes: cs}
	s.render(w, r, http.StatusOK, "care", p)
	return nil
}

func (s *Server) issueCare(w http.ResponseWriter, r *http.Request, p *page) error {
	c, err := s.Codes.IssueCare(r.Context(), p.Resident, r.PathValue("id"))
	if err != nil {
		return err
	}
	redirect(w, r, "/me/dependents/"+c.PersonID+"/care/"+c.ID)
	return nil
}

// carePrint is a care code on paper: the QR, the masked name, how long it
// is valid, and how to use it.
func (s *Server) carePrint(w http.ResponseWriter, r *http.Request, p *page) error {
	c, err := s.Codes.CareCode(r.Context(), p.Resident, r.PathValue("id"), r.PathValue("cid"))
	if err != nil {
		return err
	}
	return s.showCarePrint(w, r, p, c, "/me/dependents/"+c.PersonID+"/care")
}

func (s *Server) showCarePrint(w http.ResponseWriter, r *http.Request, p *page, c *codes.CareCode, back string) error {
	if err := c.Printable(); err != nil {
		return err
	}
	qr, err := qrSVG(c.Code, codeQR, p.T("care.qr_label", c.MaskedName))
	if err != nil {
		return err
	}
	p.Title, p.Body = p.T("care.title_for", c.MaskedName), "print"
	p.Data = careData{Code: c, QR: qr, Back: back}
	s.render(w, r, http.StatusOK, "care_print", p)
	return nil
}

func (s *Server) revokeCare(w http.ResponseWriter, r *http.Request, p *page) error {
	c, err := s.Codes.RevokeCare(r.Context(), p.Resident, r.PathValue("id"), r.PathValue("cid"))
	if err != nil {
		return err
	}
	s.flash(w, r, "flash.care_revoked", "")
	redirect(w, r, "/me/dependents/"+c.PersonID+"/care")
	return nil
}
