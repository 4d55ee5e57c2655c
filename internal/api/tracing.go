package api

import (
	"io"
	"net/http"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/tracing"
)

func (s *Server) startTracing(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
	var in tracing.Request
	if err := decode(w, r, &in); err != nil {
		return err
	}
	run, err := s.Tracing.Submit(r.Context(), pr, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, run)
	return nil
}

func (s *Server) getTracing(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
	q := r.URL.Query()
	// limit 0 asks for the status alone; the service caps the page.
	limit, err := intParam(q, ErrLimitInvalid, "limit", 200)
	if err != nil {
		return err
	}
	after, err := intParam(q, ErrAfterInvalid, "after", 0)
	if err != nil {
		return err
	}
	run, err := s.Tracing.Get(r.Context(), pr, r.PathValue("id"), int64(after), limit)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, run)
	return nil
}

func (s *Server) tracingCSV(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
	return s.Tracing.ExportCSV(r.Context(), pr, r.PathValue("id"), r.URL.Query().Get("lang"), func(name string) io.Writer {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
		w.Header().Set("Cache-Control", "no-store")
		return w
	})
}

// taskView adds the region's name for the grid worker.
type taskView struct {
	*tracing.Task
	RegionName string `json:"region_name"`
}

func (s *Server) taskView(t *tracing.Task) taskView {
	return taskView{Task: t, RegionName: s.Regions.FullName(t.Region)}
}

func (s *Server) listTasks(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
	q := r.URL.Query()
	limit, err := limitParam(q, 100, 500)
	if err != nil {
		return err
	}
	ts, err := s.Tracing.Tasks(r.Context(), pr, tracing.TaskFilter{Status: q.Get("status"), Region: q.Get("region"),
		OperatorID: q.Get("operator_id"), After: q.Get("after"), Limit: limit})
	if err != nil {
		return err
	}
	out := make([]taskView, 0, len(ts))
	for _, t := range ts {
		out = append(out, s.taskView(t))
	}
	next := ""
	if len(ts) == limit {
		next = ts[len(ts)-1].ID
	}
	writeJSON(w, http.StatusOK, map[string]any{"tasks": out, "next": next})
	return nil
}

func (s *Server) assignTask(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
	var in struct {
		OperatorID string `json:"operator_id"`
	}
	if err := decode(w, r, &in); err != nil {
		return err
	}
	t, err := s.Tracing.Assign(r.Context(), pr, r.PathValue("id"), in.OperatorID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.taskView(t))
	return nil
}

func (s *Server) visitTask(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
	var in struct {
		Note string `json:"note"`
	}
	if err := decode(w, r, &in); err != nil {
		return err
	}
	t, err := s.Tracing.Visited(r.Context(), pr, r.PathValue("id"), in.Note)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.taskView(t))
	return nil
}
