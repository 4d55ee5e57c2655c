package api

import (
	"time"

	"github.com/healthcode/healthcode/internal/coldchain"
)

// The request and response bodies of cold-chain traceability: the holders'
// calls (/gateway/v1/coldchain), the consumers' view of a batch
// (/api/v1/coldchain/batches/{code}) and the operators' (/api/v1/admin/coldchain).

// ColdBatchRequest is POST /gateway/v1/coldchain/batches: an imported batch.
type ColdBatchRequest struct {
	Product       string `json:"product" doc:"what the batch is, 1-100 characters (冻带鱼)"`
	OriginCountry string `json:"origin_country" doc:"ISO 3166 two-letter code of the country of origin"`
	Port          string `json:"port" doc:"the port of entry, 1-50 characters"`
	Declaration   string `json:"declaration" doc:"the customs declaration number (报关单号), 18 digits"`
	Quantity      int64  `json:"quantity" doc:"cases, 1-10,000,000"`
}

// ColdBatchResponse is a batch.
type ColdBatchResponse struct {
	ID            string     `json:"id"`
	Code          string     `json:"code" doc:"the batch code printed on the goods (its QR holds the public page's address)"`
	Importer      ColdOrg    `json:"importer"`
	Product       string     `json:"product"`
	OriginCountry string     `json:"origin_country"`
	Port          string     `json:"port"`
	Declaration   string     `json:"declaration"`
	Quantity      int64      `json:"quantity"`
	CreatedAt     time.Time  `json:"created_at"`
	PositiveAt    *time.Time `json:"positive_at" doc:"when an inspection of the batch was first positive; null if none"`
}

// ColdOrg is a holder as the chain names it.
type ColdOrg struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// ColdMoveRequest is POST /gateway/v1/coldchain/transfers (to is required)
// and /sales (no to).
type ColdMoveRequest struct {
	BatchCode string `json:"batch_code" doc:"what the scanner read from the label: the code or the QR's address"`
	To        string `json:"to,omitempty" doc:"the receiving holder's organisation id (transfers only)"`
	Quantity  int64  `json:"quantity"`
}

// ColdMoveResponse is a step of a batch's chain.
type ColdMoveResponse struct {
	ID       string    `json:"id"`
	Kind     ColdMove  `json:"kind"`
	From     *ColdOrg  `json:"from" doc:"null for the import"`
	To       *ColdOrg  `json:"to" doc:"null for a sale to consumers"`
	Quantity int64     `json:"quantity"`
	At       time.Time `json:"at"`
}

// ColdMove is the kind of a move.
type ColdMove string

// Enum lists the kinds.
func (ColdMove) Enum() []string {
	return []string{coldchain.MoveImport, coldchain.MoveTransfer, coldchain.MoveSale}
}

// ColdHandlingRequest is POST /gateway/v1/coldchain/handlings: a worker's
// scanned code with the batch code.
type ColdHandlingRequest struct {
	Subject   string `json:"subject" doc:"the reference the scan of the worker's health code answered"`
	BatchCode string `json:"batch_code"`
}

// ColdHandlingResponse is a worker's handling of a batch.
type ColdHandlingResponse struct {
	ID         string    `json:"id"`
	Holder     ColdOrg   `json:"holder"`
	MaskedName string    `json:"masked_name"`
	At         time.Time `json:"at"`
}

// ColdInspectionRequest is POST /gateway/v1/coldchain/inspections (a
// holder) and /api/v1/admin/coldchain/inspections (an operator, naming the
// holder).
type ColdInspectionRequest struct {
	BatchCode   string     `json:"batch_code"`
	Holder      string     `json:"holder,omitempty" doc:"where it was sampled (operators only)"`
	Kind        ColdKind   `json:"kind"`
	Result      string     `json:"result,omitempty" doc:"negative or positive for a sample; left out for a disinfection"`
	Certificate string     `json:"certificate,omitempty" doc:"the disinfection certificate (required for one) or the lab report, at most 50 characters"`
	SampledAt   *time.Time `json:"sampled_at,omitempty" doc:"default now"`
}

// ColdKind is the kind of an inspection.
type ColdKind string

// Enum lists the kinds.
func (ColdKind) Enum() []string { return coldchain.InspectionKinds }

// ColdInspectionResponse is an inspection.
type ColdInspectionResponse struct {
	ID          string    `json:"id"`
	Holder      ColdOrg   `json:"holder"`
	Kind        ColdKind  `json:"kind"`
	Result      string    `json:"result"`
	Certificate string    `json:"certificate"`
	SampledAt   time.Time `json:"sampled_at"`
}

// ColdTraceResponse answers an inspection: for a positive one, the holders
// downstream of where it was sampled (that holder and those it passed goods
// on to), the upstream holders for information (no tasks, no exposures),
// the handlers found at the downstream holders and the tasks opened (a
// repeat positive opens and finds only what is new); empty for a negative
// one.
type ColdTraceResponse struct {
	Inspection ColdInspectionResponse `json:"inspection"`
	Batch      ColdBatchResponse      `json:"batch"`
	Holders    []ColdStockResponse    `json:"holders"`
	Upstream   []ColdStockResponse    `json:"upstream"`
	Handlers   []ColdHandlerResponse  `json:"handlers"`
	Tasks      []ColdTaskResponse     `json:"tasks"`
}

// ColdStockResponse is what a holder received, holds, sold and passed on.
type ColdStockResponse struct {
	Holder     ColdOrg   `json:"holder"`
	Kind       string    `json:"kind"`
	Received   int64     `json:"received"`
	Held       int64     `json:"held"`
	Sold       int64     `json:"sold"`
	PassedOn   int64     `json:"passed_on"`
	ReceivedAt time.Time `json:"received_at"`
}

// ColdHandlerResponse is a handler a positive inspection found (masked).
type ColdHandlerResponse struct {
	Holder     ColdOrg   `json:"holder"`
	MaskedName string    `json:"masked_name"`
	HandledAt  time.Time `json:"handled_at"`
}

// ColdTaskResponse is a holder's task after a positive inspection.
type ColdTaskResponse struct {
	ID         string     `json:"id"`
	Inspection string     `json:"inspection"`
	BatchCode  string     `json:"batch_code"`
	Product    string     `json:"product"`
	Holder     ColdOrg    `json:"holder"`
	Kind       ColdTask   `json:"kind"`
	Quantity   int64      `json:"quantity" doc:"cases to seal (0 for a disinfection)"`
	CreatedAt  time.Time  `json:"created_at"`
	DoneAt     *time.Time `json:"done_at"`
}

// ColdTask is the kind of a task.
type ColdTask string

// Enum lists the kinds.
func (ColdTask) Enum() []string { return []string{coldchain.TaskSeal, coldchain.TaskDisinfect} }

// ColdChainResponse is a batch with its chain: the public view (handlings
// and tasks empty) or an operator's.
type ColdChainResponse struct {
	Batch       ColdBatchResponse        `json:"batch"`
	Holders     []ColdStockResponse      `json:"holders"`
	Moves       []ColdMoveResponse       `json:"moves"`
	Inspections []ColdInspectionResponse `json:"inspections"`
	Handlings   []ColdHandlingResponse   `json:"handlings" doc:"operators only (masked names); empty in the public view"`
	Tasks       []ColdTaskResponse       `json:"tasks" doc:"operators only; empty in the public view"`
}

// ColdBatchListResponse lists batches.
type ColdBatchListResponse struct {
	Batches []ColdBatchResponse `json:"batches"`
}

// ColdHoldingsResponse is a holder's batches and tasks.
type ColdHoldingsResponse struct {
	Holder  ColdOrg            `json:"holder"`
	Batches []ColdHeldResponse `json:"batches"`
	Tasks   []ColdTaskResponse `json:"tasks"`
}

// ColdHeldResponse is a batch with the holder's stock of it.
type ColdHeldResponse struct {
	Batch ColdBatchResponse `json:"batch"`
	Stock ColdStockResponse `json:"stock"`
}

func coldBatch(b *coldchain.Batch) ColdBatchResponse {
	return ColdBatchResponse{ID: b.ID, Code: b.Code, Importer: ColdOrg{b.Importer, b.ImporterName}, Product: b.Product,
		OriginCountry: b.OriginCountry, Port: b.Port, Declaration: b.Declaration, Quantity: b.Quantity, CreatedAt: b.CreatedAt,
		PositiveAt: optTime(b.PositiveAt)}
}

func coldMove(m *coldchain.Move) ColdMoveResponse {
	out := ColdMoveResponse{ID: m.ID, Kind: ColdMove(m.Kind), Quantity: m.Quantity, At: m.At}
	if m.From != "" {
		out.From = &ColdOrg{m.From, m.FromName}
	}
	if m.To != "" {
		out.To = &ColdOrg{m.To, m.ToName}
	}
	return out
}

func coldStock(st *coldchain.Stock) ColdStockResponse {
	return ColdStockResponse{Holder: ColdOrg{st.Org, st.OrgName}, Kind: string(st.Kind), Received: st.Received, Held: st.Held,
		Sold: st.Sold, PassedOn: st.PassedOn, ReceivedAt: st.ReceivedAt}
}

func coldInspection(i *coldchain.Inspection) ColdInspectionResponse {
	return ColdInspectionResponse{ID: i.ID, Holder: ColdOrg{i.Org, i.OrgName}, Kind: ColdKind(i.Kind), Result: i.Result,
		Certificate: i.Certificate, SampledAt: i.SampledAt}
}

func coldTask(t *coldchain.Task) ColdTaskResponse {
	return ColdTaskResponse{ID: t.ID, Inspection: t.Inspection, BatchCode: t.BatchCode, Product: t.Product,
		Holder: ColdOrg{t.Org, t.OrgName}, Kind: ColdTask(t.Kind), Quantity: t.Quantity, CreatedAt: t.CreatedAt, DoneAt: optTime(t.DoneAt)}
}

func coldTasks(ts []*coldchain.Task) []ColdTaskResponse {
	out := make([]ColdTaskResponse, len(ts))
	for i, t := range ts {
		out[i] = coldTask(t)
	}
	return out
}

func coldHolders(hs []*coldchain.Stock) []ColdStockResponse {
	out := make([]ColdStockResponse, len(hs))
	for i, h := range hs {
		out[i] = coldStock(h)
	}
	return out
}

func coldTrace(tr *coldchain.Trace) ColdTraceResponse {
	out := ColdTraceResponse{Inspection: coldInspection(tr.Inspection), Batch: coldBatch(tr.Batch), Holders: coldHolders(tr.Holders),
		Upstream: coldHolders(tr.Upstream), Handlers: make([]ColdHandlerResponse, len(tr.Handlers)), Tasks: coldTasks(tr.Tasks)}
	for i, e := range tr.Handlers {
		out.Handlers[i] = ColdHandlerResponse{Holder: ColdOrg{e.Org, e.OrgName}, MaskedName: e.MaskedName, HandledAt: e.HandledAt}
	}
	return out
}

func coldChain(c *coldchain.Chain) ColdChainResponse {
	out := ColdChainResponse{Batch: coldBatch(c.Batch), Holders: coldHolders(c.Holders), Moves: make([]ColdMoveResponse, len(c.Moves)),
		Inspections: make([]ColdInspectionResponse, len(c.Inspections)), Handlings: make([]ColdHandlingResponse, len(c.Handlings)),
		Tasks: coldTasks(c.Tasks)}
	for i, m := range c.Moves {
		out.Moves[i] = coldMove(m)
	}
	for i, x := range c.Inspections {
		out.Inspections[i] = coldInspection(x)
	}
	for i, h := range c.Handlings {
		out.Handlings[i] = coldHandling(h)
	}
	return out
}

func coldHandling(h *coldchain.Handling) ColdHandlingResponse {
	return ColdHandlingResponse{ID: h.ID, Holder: ColdOrg{h.Org, h.OrgName}, MaskedName: h.MaskedName, At: h.At}
}
