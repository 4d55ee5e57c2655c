package api

import (
	"context"
	"net/http"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/coldchain"
)

// Cold-chain traceability: the holders' calls, the consumers' view of a
// batch and the operators' views and inspections.
func (s *Server) coldChainRoutes() []route {
	return []route{
		{Method: "POST", Path: "/gateway/v1/coldchain/batches", Auth: "importer's API key with coldchain.batch, or its unit account",
			Summary: "Register an imported batch {product, origin_country, port, declaration, quantity} → the batch with its code, held whole by the importer",
			In:      ColdBatchRequest{}, Out: replies(created(ColdBatchResponse{})),
			h: s.principal(s.coldRegister)},
		{Method: "POST", Path: "/gateway/v1/coldchain/transfers", Auth: "cold-chain holder's API key with coldchain.move, or its unit account",
			Summary: "Pass part of a held batch on to another holder {batch_code (scanned), to, quantity}; 409 batch_not_held, 409 quantity_exceeds_stock, 400 recipient_invalid; nothing written when refused",
			In:      ColdMoveRequest{}, Out: replies(created(ColdMoveResponse{})),
			h: s.principal(s.coldTransfer)},
		{Method: "POST", Path: "/gateway/v1/coldchain/sales", Auth: "cold-chain holder's API key with coldchain.move, or its unit account",
			Summary: "Record part of a held batch sold to consumers {batch_code, quantity}; 409 batch_not_held, 409 quantity_exceeds_stock",
			In:      ColdMoveRequest{}, Out: replies(created(ColdMoveResponse{})),
			h: s.principal(s.coldSell)},
		{Method: "POST", Path: "/gateway/v1/coldchain/handlings", Auth: "cold-chain holder's API key with coldchain.handler, or its unit account",
			Summary: "A worker handles a held batch: {subject (the scan of the worker's health code), batch_code}; 409 batch_not_held",
			In:      ColdHandlingRequest{}, Out: replies(created(ColdHandlingResponse{})),
			h: s.principal(s.coldHandle)},
		{Method: "POST", Path: "/gateway/v1/coldchain/inspections", Auth: "importer's, cold store's or wholesaler's API key with coldchain.inspect, or its unit account",
			Summary: "Record a sample (goods|packaging: negative|positive) or a disinfection (certificate) of a held batch; a positive one traces the batch at once downstream of this holder: those holders with their stock, the handlers at them (cold_chain.exposure recorded), seal and disinfect tasks; upstream holders for information only; a repeat opens nothing twice; 404 batch_not_found",
			In:      ColdInspectionRequest{}, Out: replies(created(ColdTraceResponse{})),
			h: s.principal(s.coldInspect)},
		{Method: "GET", Path: "/gateway/v1/coldchain/holdings", Auth: "cold-chain holder's API key with coldchain.move, or its unit account",
			Summary: "The holder's batches with its stock of each, and its tasks (open first)",
			Out:     replies(ok(ColdHoldingsResponse{})),
			h:       s.principal(s.coldHoldings)},
		{Method: "POST", Path: "/gateway/v1/coldchain/tasks/{id}/done", Auth: "cold-chain holder's API key with coldchain.tasks, or its unit account",
			Summary: "Close one of the holder's tasks (stock sealed, premises disinfected); 409 cold_chain_task_done",
			Out:     replies(ok(ColdTaskResponse{})),
			h:       s.principal(s.coldTaskDone)},
		{Method: "GET", Path: "/coldchain/batches/{code}",
			Summary: "A batch as consumers see it by its code: origin, inspections and chain; no personal data",
			Out:     replies(ok(ColdChainResponse{})),
			h:       s.call(s.coldPublic)},
		{Method: "GET", Path: "/admin/coldchain/batches", Auth: "operator: stats.read, result.write or org.write",
			Summary: "Batches with a holder in the operator's region, newest first (at most 200): ?positive=true for those found positive",
			Out:     replies(ok(ColdBatchListResponse{})),
			h:       s.principal(s.coldBatches)},
		{Method: "GET", Path: "/admin/coldchain/batches/{id}", Auth: "operator: stats.read, result.write or org.write",
			Summary: "A batch's chain with its handlings (masked) and tasks",
			Out:     replies(ok(ColdChainResponse{})),
			h:       s.principal(s.coldBatch)},
		{Method: "POST", Path: "/admin/coldchain/inspections", Auth: "operator: result.write",
			Summary: "Record an inspection at a holder in the operator's region {batch_code, holder, kind, result?, certificate?, sampled_at?}; a positive one traces the batch as a holder's does",
			In:      ColdInspectionRequest{}, Out: replies(created(ColdTraceResponse{})),
			h: s.operator(auth.ResultWrite, s.coldInspect)},
		{Method: "GET", Path: "/admin/coldchain/inspections/{id}/report.csv", Auth: "operator: stats.read, result.write or org.write",
			Summary: "A positive inspection's trace as CSV: downstream holders (received, held, sold, passed on), upstream holders (for information), tasks, handlers (masked); ?lang=en for English",
			Out:     replies(csvFile),
			h:       s.principal(s.coldReport)},
	}
}

func (s *Server) coldRegister(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	var in ColdBatchRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	b, err := s.ColdChain.Register(r.Context(), p, coldchain.BatchInput(in))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, coldBatch(b))
	return nil
}

func (s *Server) coldTransfer(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	return s.coldMove(w, r, p, s.ColdChain.Transfer)
}

func (s *Server) coldSell(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	return s.coldMove(w, r, p, s.ColdChain.Sell)
}

func (s *Server) coldMove(w http.ResponseWriter, r *http.Request, p *auth.Principal,
	do func(ctx context.Context, by *auth.Principal, in coldchain.MoveInput) (*coldchain.Move, error)) error {
	var in ColdMoveRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	m, err := do(r.Context(), p, coldchain.MoveInput{Code: in.BatchCode, To: in.To, Quantity: in.Quantity})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, coldMove(m))
	return nil
}

func (s *Server) coldHandle(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	var in ColdHandlingRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	h, err := s.ColdChain.Handle(r.Context(), p, in.Subject, in.BatchCode)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, coldHandling(h))
	return nil
}

func (s *Server) coldInspect(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	var in ColdInspectionRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	ci := coldchain.InspectionInput{Code: in.BatchCode, Holder: in.Holder, Kind: string(in.Kind), Result: in.Result, Certificate: in.Certificate}
	if in.SampledAt != nil {
		ci.SampledAt = *in.SampledAt
	}
	tr, err := s.ColdChain.Inspect(r.Context(), p, ci)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, coldTrace(tr))
	return nil
}

func (s *Server) coldHoldings(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	h, err := s.ColdChain.Holdings(r.Context(), p)
	if err != nil {
		return err
	}
	out := ColdHoldingsResponse{Holder: ColdOrg{h.Org.ID, h.Org.Name}, Batches: make([]ColdHeldResponse, len(h.Batches)), Tasks: coldTasks(h.Tasks)}
	for i, hb := range h.Batches {
		out.Batches[i] = ColdHeldResponse{Batch: coldBatch(hb.Batch), Stock: coldStock(hb.Stock)}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) coldTaskDone(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	t, err := s.ColdChain.CloseTask(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, coldTask(t))
	return nil
}

func (s *Server) coldPublic(w http.ResponseWriter, r *http.Request) error {
	c, err := s.ColdChain.Public(r.Context(), r.PathValue("code"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, coldChain(c))
	return nil
}

func (s *Server) coldBatches(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	bs, err := s.ColdChain.Batches(r.Context(), p, r.URL.Query().Get("positive") == "true")
	if err != nil {
		return err
	}
	out := ColdBatchListResponse{Batches: make([]ColdBatchResponse, len(bs))}
	for i, b := range bs {
		out.Batches[i] = coldBatch(b)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) coldBatch(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	c, err := s.ColdChain.Batch(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, coldChain(c))
	return nil
}

func (s *Server) coldReport(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	tr, err := s.ColdChain.Report(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="coldchain-`+tr.Batch.Code+`.csv"`)
	w.Header().Set("Cache-Control", "no-store")
	return s.ColdChain.WriteReport(w, tr, r.URL.Query().Get("lang") == "en")
}
