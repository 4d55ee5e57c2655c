package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/codeformat"
	"github.com/healthcode/healthcode/internal/geo"
	"github.com/healthcode/healthcode/internal/nat"
)

// Nucleic-acid testing: sampling sites (open data), tubes, results,
// residents' tests and certificates, alerts, tasks and coverage.

func (s *Server) listSites(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	format := q.Get("format")
	switch format {
	case "", "json", "csv", "geojson":
	default:
		return ErrFormatUnknown
	}
	sq := nat.SiteQuery{Region: q.Get("region")}
	if v := q.Get("near"); v != "" {
		ll, err := geo.ParseLatLng(v)
		if err != nil {
			return err
		}
		sq.Near = &ll
	}
	if v := q.Get("open"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return ErrOpenInvalid
		}
		sq.Open = &b
	}
	var err error
	if sq.Limit, err = limitParam(q, 0, nat.MaxSites); err != nil {
		return err
	}
	sites, err := s.NAT.ListSites(r.Context(), sq)
	if err != nil {
		return err
	}
	// Open data: anyone may cache it for a minute.
	w.Header().Set("Cache-Control", "public, max-age=60")
	switch format {
	case "csv":
		w.Header().Set("Content-Type", "text/csv; charset=utf-8; header=present")
		w.Header().Set("Content-Disposition", `attachment; filename="sites.csv"`)
		var buf bytes.Buffer
		if err := nat.WriteSitesCSV(&buf, sites, sq.Near != nil); err != nil {
			return fmt.Errorf("api: sites csv: %w", err)
		}
		w.Write(buf.Bytes())
	case "geojson":
		return writeGeoJSON(w, sitesGeoJSON(sites))
	default:
		out := SiteListResponse{Count: len(sites), Sites: make([]SiteResponse, len(sites))}
		for i, st := range sites {
			out.Sites[i] = siteResponse(st)
		}
		writeJSON(w, http.StatusOK, out)
	}
	return nil
}

func (s *Server) getSite(w http.ResponseWriter, r *http.Request) error {
	st, err := s.NAT.GetSite(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "public, max-age=60")
	writeJSON(w, http.StatusOK, siteResponse(st))
	return nil
}

func (s *Server) createSite(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
	var in SiteRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	st, err := s.NAT.CreateSite(r.Context(), pr, nat.SiteInput(in))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, siteResponse(st))
	return nil
}

func (s *Server) updateSite(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
	var in SiteRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	st, err := s.NAT.UpdateSite(r.Context(), pr, r.PathValue("id"), nat.SiteInput(in))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, siteResponse(st))
	return nil
}

// readCSV reads a text/csv request body of at most nat.MaxUploadBytes.
func readCSV(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || (mt != "text/csv" && mt != "text/plain") {
		return nil, ErrUnsupportedMediaType.Withf("send the file as text/csv (UTF-8)")
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, nat.MaxUploadBytes))
	var big *http.MaxBytesError
	if errors.As(err, &big) {
		return nil, ErrBodyTooLarge.Withf("the file is over %d bytes; split it", big.Limit)
	}
	if err != nil {
		return nil, ErrBodyUnreadable.Withf("the file could not be read: %v", err)
	}
	return body, nil
}

func (s *Server) importSites(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
	body, err := readCSV(w, r)
	if err != nil {
		return err
	}
	rep, err := s.NAT.ImportSites(r.Context(), pr, body)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, importReport(rep))
	return nil
}

func (s *Server) openTube(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
	var in TubeRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	t, err := s.NAT.OpenTube(r.Context(), pr, in.Barcode, in.Capacity, in.SiteID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, tubeResponse(t))
	return nil
}

func (s *Server) getTube(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
	t, err := s.NAT.Tube(r.Context(), pr, r.PathValue("barcode"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, tubeResponse(t))
	return nil
}

func (s *Server) addSample(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
	var in SampleRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	smp, err := s.NAT.AddSample(r.Context(), pr, r.PathValue("barcode"), nat.SampleInput(in))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, SampleResponse(*smp))
	return nil
}

func (s *Server) sealTube(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
	t, err := s.NAT.Seal(r.Context(), pr, r.PathValue("barcode"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, tubeResponse(t))
	return nil
}

func (s *Server) createTransfer(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
	var in TransferRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	tr, err := s.NAT.CreateTransfer(r.Context(), pr, in.Barcodes, in.Lab)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, transferResponse(tr))
	return nil
}

func (s *Server) getTransfer(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
	tr, err := s.NAT.GetTransfer(r.Context(), pr, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, transferResponse(tr))
	return nil
}

func (s *Server) postResult(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
	var in ResultRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	rep, err := s.NAT.PostResult(r.Context(), pr, in.Barcode, in.Result, in.Lab)
	if err != nil {
		return err
	}
	status := http.StatusCreated
	if rep.Status == "unchanged" {
		status = http.StatusOK
	}
	writeJSON(w, status, resultReport(rep))
	return nil
}

func (s *Server) uploadResults(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
	body, err := readCSV(w, r)
	if err != nil {
		return err
	}
	rep, err := s.NAT.Upload(r.Context(), pr, body, r.URL.Query().Get("lab"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, uploadReport(rep))
	return nil
}

func (s *Server) correctResult(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
	var in CorrectionRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	rep, err := s.NAT.Correct(r.Context(), pr, r.PathValue("barcode"), in.Result, in.Reason)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, resultReport(rep))
	return nil
}

// testPerson is whose tests a resident asks about: their own (""), or, on
// the /me/dependents/{id}/... paths, a dependent's.
func testPerson(r *http.Request, dependent bool) string {
	if dependent {
		return r.PathValue("id")
	}
	return ""
}

func (s *Server) tests(dependent bool) authed {
	return func(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
		t, err := s.NAT.TestsFor(r.Context(), pr, testPerson(r, dependent))
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, testsResponse(t))
		return nil
	}
}

func (s *Server) certificate(r *http.Request, pr *auth.Principal, dependent bool) (*nat.Certificate, error) {
	return s.NAT.CertificateFor(r.Context(), pr, testPerson(r, dependent), r.PathValue("test"))
}

// testCertificate signs a certificate of a negative test; the QR image of
// the same certificate is at the same path plus ".png".
func (s *Server) testCertificate(dependent bool) authed {
	return func(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
		c, err := s.certificate(r, pr, dependent)
		if err != nil {
			return err
		}
		w.Header().Set("Cache-Control", "no-store")
		writeJSON(w, http.StatusOK, certificateResponse(c, r.URL.Path+".png"))
		return nil
	}
}

func (s *Server) testCertificatePNG(dependent bool) authed {
	return func(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
		c, err := s.certificate(r, pr, dependent)
		if err != nil {
			return err
		}
		png, err := codeformat.PNG(c.Code, 512)
		if err != nil {
			return fmt.Errorf("api: certificate QR: %w", err)
		}
		w.Header().Set("Content-Type", "image/png")
		w.Header().Set("Cache-Control", "no-store")
		w.Write(png)
		return nil
	}
}

func listQuery(r *http.Request) (nat.ListQuery, error) {
	q := r.URL.Query()
	lq := nat.ListQuery{Region: q.Get("region"), Kind: q.Get("kind")}
	if v := q.Get("open"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return lq, ErrOpenInvalid
		}
		lq.Open = b
	}
	lq.After = q.Get("after")
	var err error
	lq.Limit, err = limitParam(q, 50, 200)
	return lq, err
}

func (s *Server) natAlerts(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
	lq, err := listQuery(r)
	if err != nil {
		return err
	}
	al, next, err := s.NAT.Alerts(r.Context(), pr, lq)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, alertList(al, next))
	return nil
}

func (s *Server) ackAlert(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
	if err := s.NAT.AckAlert(r.Context(), pr, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) natTasks(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
	lq, err := listQuery(r)
	if err != nil {
		return err
	}
	ts, next, err := s.NAT.Tasks(r.Context(), pr, lq)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, gridTaskList(ts, next))
	return nil
}

func (s *Server) natCoverage(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
	q := r.URL.Query()
	cq := nat.CoverageQuery{Region: q.Get("region"), After: q.Get("after")}
	cq.Hours = 48
	if v := q.Get("hours"); v != "" {
		h, err := strconv.Atoi(v)
		if err != nil || h < 1 || h > nat.MaxCoverageHours {
			return nat.ErrHoursInvalid.Withf("hours must be a whole number of hours, 1-%d", nat.MaxCoverageHours)
		}
		cq.Hours = h
	}
	var err error
	if cq.Limit, err = limitParam(q, 50, 200); err != nil {
		return err
	}
	c, err := s.NAT.Coverage(r.Context(), pr, cq)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, testCoverage(c))
	return nil
}

// writeGeoJSON answers a feature collection, encoded before the header so
// that a failure is a 500 rather than half a document.
func writeGeoJSON(w http.ResponseWriter, fc any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(fc); err != nil {
		return fmt.Errorf("api: geojson: %w", err)
	}
	w.Header().Set("Content-Type", "application/geo+json")
	w.Write(buf.Bytes())
	return nil
}
