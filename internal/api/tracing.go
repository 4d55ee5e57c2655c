package api

import (
	"io"
	"net/http"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/tracing"
)

func (s *Server) startTracing(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
	var in TracingRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	run, err := s.Tracing.Submit(r.Context(), pr, tracing.Request(in))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, tracingRun(run))
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
	writeJSON(w, http.StatusOK, tracingRun(run))
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

func (s *Server) listTasks(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
	q := r.URL.Query()
	limit, err := limitParam(q, 100, 500)
	if err != nil {
		return err
	}
	ts, err := s.Tracing.Tasks(r.Context(), pr, tracing.TaskFilter{Status: q.Get("status"), Region: q.Get("region"),
		OperatorID: q.Get("operator_id"), After: q.Get("after"), Limit: limit, Kind: q.Get("kind"), Escalated: q.Get("escalated") == "true"})
	if err != nil {
		return err
	}
	out := TracingTaskList{Tasks: make([]TracingTask, 0, len(ts))}
	for _, t := range ts {
		out.Tasks = append(out.Tasks, s.tracingTask(t))
	}
	if len(ts) == limit {
		out.Next = ts[len(ts)-1].ID
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) assignTask(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
	var in AssignRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	t, err := s.Tracing.Assign(r.Context(), pr, r.PathValue("id"), in.OperatorID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.tracingTask(t))
	return nil
}

func (s *Server) visitTask(w http.ResponseWriter, r *http.Request, pr *auth.Principal) error {
	var in VisitRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	t, err := s.Tracing.Visit(r.Context(), pr, r.PathValue("id"), in.Outcome, in.Note)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.tracingTask(t))
	return nil
}
