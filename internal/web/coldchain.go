package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/skip2/go-qrcode"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/coldchain"
	"github.com/healthcode/healthcode/internal/gateway"
	"github.com/healthcode/healthcode/internal/org"
)

// Cold-chain traceability's pages: a holder's batches, moves, workers,
// inspections and tasks (/unit/coldchain); the consumers' page of a batch
// by the code on its label (/cc/{code}); the console's batches, chains and
// positive reports. The coldchain service decides who may do what.
func (s *Server) coldChainRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /cc/{code}", s.public(s.coldPublicPage))
	mux.HandleFunc("GET /unit/coldchain", s.unit(s.unitColdChain))
	mux.HandleFunc("POST /unit/coldchain/batches", s.unit(s.unitColdRegister))
	mux.HandleFunc("POST /unit/coldchain/transfers", s.unit(s.unitColdTransfer))
	mux.HandleFunc("POST /unit/coldchain/sales", s.unit(s.unitColdSell))
	mux.HandleFunc("POST /unit/coldchain/handlings", s.unit(s.unitColdHandle))
	mux.HandleFunc("POST /unit/coldchain/inspections", s.unit(s.unitColdInspect))
	mux.HandleFunc("POST /unit/coldchain/tasks/{id}/done", s.unit(s.unitColdTaskDone))
	mux.HandleFunc("GET /unit/coldchain/inspections/{id}/report.csv", s.unit(s.unitColdReport))
	mux.HandleFunc("GET /console/coldchain", s.console("", s.consoleColdBatches))
	mux.HandleFunc("GET /console/coldchain/{id}", s.console("", s.consoleColdBatch))
	mux.HandleFunc("POST /console/coldchain/inspections", s.console("", s.consoleColdInspect))
	mux.HandleFunc("GET /console/coldchain/inspections/{id}/report.csv", s.console("", s.consoleColdReport))
}

// coldLabelURL is what a batch label's QR holds: the public page.
func (s *Server) coldLabelURL(code string) string {
	return strings.TrimRight(s.Config.PublicURL, "/") + "/cc/" + code
}

type coldPublicData struct {
	Chain *coldchain.Chain
}

func (s *Server) coldPublicPage(w http.ResponseWriter, r *http.Request, p *page) error {
	c, err := s.ColdChain.Public(r.Context(), r.PathValue("code"))
	if err != nil {
		return err
	}
	p.Title, p.Data = p.T("cc.public_title"), coldPublicData{Chain: c}
	s.render(w, r, http.StatusOK, "coldchain_public", p)
	return nil
}

// coldUnitData is a holder's page.
type coldUnitData struct {
	Holdings   *coldchain.Holdings
	Recipients []*org.Org
	Importer   bool              // registers batches
	Sampler    bool              // records inspections
	Labels     map[string]string // batch id -> the label's QR (SVG), for batches it registered
	Trace      *coldchain.Trace  // the answer to a positive inspection
	Kinds      []string
}

func (s *Server) showUnitColdChain(w http.ResponseWriter, r *http.Request, p *page, status int, tr *coldchain.Trace) error {
	h, err := s.ColdChain.Holdings(r.Context(), p.Unit.p)
	if err != nil {
		return err
	}
	d := coldUnitData{Holdings: h, Importer: h.Org.Kind.Allows(org.ScopeColdChainBatch), Sampler: h.Org.Kind.Allows(org.ScopeColdChainInspect),
		Labels: map[string]string{}, Trace: tr, Kinds: coldchain.InspectionKinds}
	all, err := s.Orgs.OfKinds(r.Context(), org.ColdChainHolders...)
	if err != nil {
		return err
	}
	for _, o := range all {
		if o.ID != h.Org.ID {
			d.Recipients = append(d.Recipients, o)
		}
	}
	for _, hb := range h.Batches {
		if hb.Batch.Importer == h.Org.ID {
			if svg, err := qrSVG(s.coldLabelURL(hb.Batch.Code), qrcode.Medium, hb.Batch.Code); err == nil {
				d.Labels[hb.Batch.ID] = svg
			}
		}
	}
	p.Title, p.NavOn, p.Data = p.T("cc.nav"), "/unit/coldchain", d
	s.render(w, r, status, "unit_coldchain", p)
	return nil
}

func (s *Server) unitColdChain(w http.ResponseWriter, r *http.Request, p *page) error {
	return s.showUnitColdChain(w, r, p, http.StatusOK, nil)
}

// coldRefused shows the page again with the refusal, answered with its status.
func (s *Server) coldRefused(w http.ResponseWriter, r *http.Request, p *page, err error) error {
	return s.formErr(w, r, p, err, func(st int) error { return s.showUnitColdChain(w, r, p, st, nil) })
}

func formInt(r *http.Request, name string) int64 {
	n, err := strconv.ParseInt(strings.TrimSpace(r.PostFormValue(name)), 10, 64)
	if err != nil {
		return 0 // the service refuses it as quantity_invalid
	}
	return n
}

func (s *Server) unitColdRegister(w http.ResponseWriter, r *http.Request, p *page) error {
	b, err := s.ColdChain.Register(r.Context(), p.Unit.p, coldchain.BatchInput{Product: r.PostFormValue("product"),
		OriginCountry: r.PostFormValue("origin_country"), Port: r.PostFormValue("port"), Declaration: r.PostFormValue("declaration"),
		Quantity: formInt(r, "quantity")})
	if err != nil {
		return s.coldRefused(w, r, p, err)
	}
	s.flash(w, r, "flash.cc_registered", b.Code+" · "+b.Product)
	redirect(w, r, "/unit/coldchain")
	return nil
}

func (s *Server) unitColdTransfer(w http.ResponseWriter, r *http.Request, p *page) error {
	m, err := s.ColdChain.Transfer(r.Context(), p.Unit.p, coldchain.MoveInput{Code: r.PostFormValue("batch_code"),
		To: r.PostFormValue("to"), Quantity: formInt(r, "quantity")})
	if err != nil {
		return s.coldRefused(w, r, p, err)
	}
	s.flash(w, r, "flash.cc_moved", m.ToName+" · "+strconv.FormatInt(m.Quantity, 10))
	redirect(w, r, "/unit/coldchain")
	return nil
}

func (s *Server) unitColdSell(w http.ResponseWriter, r *http.Request, p *page) error {
	m, err := s.ColdChain.Sell(r.Context(), p.Unit.p, coldchain.MoveInput{Code: r.PostFormValue("batch_code"), Quantity: formInt(r, "quantity")})
	if err != nil {
		return s.coldRefused(w, r, p, err)
	}
	s.flash(w, r, "flash.cc_sold", strconv.FormatInt(m.Quantity, 10))
	redirect(w, r, "/unit/coldchain")
	return nil
}

// unitColdHandle scans the worker's health code, then records the handling
// with the batch code: the two scans of one worker at the batch.
func (s *Server) unitColdHandle(w http.ResponseWriter, r *http.Request, p *page) error {
	sc, err := s.Gateway.Scan(r.Context(), p.Unit.p, gateway.ScanInput{Code: strings.TrimSpace(r.PostFormValue("code"))})
	if err != nil {
		return s.coldRefused(w, r, p, err)
	}
	h, err := s.ColdChain.Handle(r.Context(), p.Unit.p, sc.Subject, r.PostFormValue("batch_code"))
	if err != nil {
		return s.coldRefused(w, r, p, err)
	}
	s.flash(w, r, "flash.cc_handled", h.MaskedName+" · "+p.T("color."+sc.Color.String()))
	redirect(w, r, "/unit/coldchain")
	return nil
}

func (s *Server) unitColdInspect(w http.ResponseWriter, r *http.Request, p *page) error {
	tr, err := s.ColdChain.Inspect(r.Context(), p.Unit.p, coldInspection(r))
	if err != nil {
		return s.coldRefused(w, r, p, err)
	}
	if tr.Inspection.Positive() {
		return s.showUnitColdChain(w, r, p, http.StatusOK, tr)
	}
	s.flash(w, r, "flash.cc_inspected", p.T("cc.kind."+tr.Inspection.Kind))
	redirect(w, r, "/unit/coldchain")
	return nil
}

func coldInspection(r *http.Request) coldchain.InspectionInput {
	in := coldchain.InspectionInput{Code: r.PostFormValue("batch_code"), Holder: r.PostFormValue("holder"), Kind: r.PostFormValue("kind"),
		Result: r.PostFormValue("result"), Certificate: r.PostFormValue("certificate")}
	if in.Kind == coldchain.Disinfection {
		in.Result = ""
	}
	return in
}

func (s *Server) unitColdTaskDone(w http.ResponseWriter, r *http.Request, p *page) error {
	t, err := s.ColdChain.CloseTask(r.Context(), p.Unit.p, r.PathValue("id"))
	if err != nil {
		return s.coldRefused(w, r, p, err)
	}
	s.flash(w, r, "flash.cc_task_done", p.T("cc.task."+t.Kind)+" · "+t.BatchCode)
	redirect(w, r, "/unit/coldchain")
	return nil
}

type coldConsoleData struct {
	Batches  []*coldchain.Batch
	Positive bool
}

func (s *Server) consoleColdBatches(w http.ResponseWriter, r *http.Request, p *page) error {
	pos := r.URL.Query().Get("positive") == "true"
	bs, err := s.ColdChain.Batches(r.Context(), p.Op, pos)
	if err != nil {
		return err
	}
	p.Title, p.NavOn, p.Data = p.T("nav.coldchain"), "/console/coldchain", coldConsoleData{Batches: bs, Positive: pos}
	s.render(w, r, http.StatusOK, "console_coldchain", p)
	return nil
}

type coldBatchData struct {
	Chain     *coldchain.Chain
	Positives []*coldchain.Inspection
	Inspect   bool // the operator may record inspections
	Kinds     []string
}

func (s *Server) consoleColdBatch(w http.ResponseWriter, r *http.Request, p *page) error {
	return s.showConsoleColdBatch(w, r, p, http.StatusOK, r.PathValue("id"))
}

func (s *Server) showConsoleColdBatch(w http.ResponseWriter, r *http.Request, p *page, status int, id string) error {
	c, err := s.ColdChain.Batch(r.Context(), p.Op, id)
	if err != nil {
		return err
	}
	d := coldBatchData{Chain: c, Inspect: p.Op.Can(auth.ResultWrite), Kinds: coldchain.InspectionKinds}
	for _, i := range c.Inspections {
		if i.Positive() {
			d.Positives = append(d.Positives, i)
		}
	}
	p.Title, p.NavOn, p.Data = c.Batch.Product+" · "+c.Batch.Code, "/console/coldchain", d
	s.render(w, r, status, "console_coldchain_batch", p)
	return nil
}

func (s *Server) consoleColdInspect(w http.ResponseWriter, r *http.Request, p *page) error {
	batch := r.PostFormValue("batch")
	tr, err := s.ColdChain.Inspect(r.Context(), p.Op, coldInspection(r))
	if err != nil {
		return s.formErr(w, r, p, err, func(st int) error { return s.showConsoleColdBatch(w, r, p, st, batch) })
	}
	s.flash(w, r, "flash.cc_inspected", p.T("cc.kind."+tr.Inspection.Kind))
	redirect(w, r, "/console/coldchain/"+tr.Batch.ID)
	return nil
}

func (s *Server) consoleColdReport(w http.ResponseWriter, r *http.Request, p *page) error {
	tr, err := s.ColdChain.Report(r.Context(), p.Op, r.PathValue("id"))
	if err != nil {
		return err
	}
	return s.coldReport(w, p, tr)
}

// unitColdReport is the sampling holder's copy of its positive
// inspection's trace.
func (s *Server) unitColdReport(w http.ResponseWriter, r *http.Request, p *page) error {
	tr, err := s.ColdChain.HolderReport(r.Context(), p.Unit.p, r.PathValue("id"))
	if err != nil {
		return err
	}
	return s.coldReport(w, p, tr)
}

func (s *Server) coldReport(w http.ResponseWriter, p *page, tr *coldchain.Trace) error {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="coldchain-`+tr.Batch.Code+`-`+tr.Inspection.RecordedAt.In(p.loc).Format(time.DateOnly)+`.csv"`)
	w.Header().Set("Cache-Control", "no-store")
	return s.ColdChain.WriteReport(w, tr, p.Lang.Code() == "en")
}
