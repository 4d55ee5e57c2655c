// Package server assembles the product: it opens the store, builds the
// services in dependency order, mounts the API and the pages, and runs the
// background workers. cmd/healthcode only turns flags into a Config.
package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/healthcode/healthcode/internal/api"
	"github.com/healthcode/healthcode/internal/audit"
	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/booking"
	"github.com/healthcode/healthcode/internal/checkin"
	"github.com/healthcode/healthcode/internal/checkpoint"
	"github.com/healthcode/healthcode/internal/clientaddr"
	"github.com/healthcode/healthcode/internal/clinic"
	"github.com/healthcode/healthcode/internal/codeformat"
	"github.com/healthcode/healthcode/internal/codes"
	"github.com/healthcode/healthcode/internal/coldchain"
	"github.com/healthcode/healthcode/internal/db"
	"github.com/healthcode/healthcode/internal/emergency"
	"github.com/healthcode/healthcode/internal/employer"
	"github.com/healthcode/healthcode/internal/entry"
	"github.com/healthcode/healthcode/internal/federation"
	"github.com/healthcode/healthcode/internal/gateway"
	"github.com/healthcode/healthcode/internal/grid"
	"github.com/healthcode/healthcode/internal/hall"
	"github.com/healthcode/healthcode/internal/hospital"
	"github.com/healthcode/healthcode/internal/hotline"
	"github.com/healthcode/healthcode/internal/isolation"
	"github.com/healthcode/healthcode/internal/keys"
	"github.com/healthcode/healthcode/internal/lease"
	"github.com/healthcode/healthcode/internal/nat"
	"github.com/healthcode/healthcode/internal/org"
	"github.com/healthcode/healthcode/internal/person"
	"github.com/healthcode/healthcode/internal/pharmacy"
	"github.com/healthcode/healthcode/internal/region"
	"github.com/healthcode/healthcode/internal/retention"
	"github.com/healthcode/healthcode/internal/ride"
	"github.com/healthcode/healthcode/internal/riskarea"
	"github.com/healthcode/healthcode/internal/school"
	"github.com/healthcode/healthcode/internal/secret"
	"github.com/healthcode/healthcode/internal/sms"
	"github.com/healthcode/healthcode/internal/status"
	"github.com/healthcode/healthcode/internal/tracing"
	"github.com/healthcode/healthcode/internal/transport"
	"github.com/healthcode/healthcode/internal/trip"
	"github.com/healthcode/healthcode/internal/vaccine"
	"github.com/healthcode/healthcode/internal/venue"
	"github.com/healthcode/healthcode/internal/web"
	"github.com/healthcode/healthcode/internal/winddown"
)

// Config is everything the product can be told at start.
type Config struct {
	Addr string // listen address, default 127.0.0.1:8080
	// Listener, when set, is served instead of listening on Addr, so a
	// caller that asked for port 0 knows the port before the server builds
	// its URLs (QR codes must not point at port 0).
	Listener      net.Listener
	DB            string // sqlite:PATH or postgres://..., default sqlite:DATADIR/healthcode.db
	DataDir       string // default ./data
	MasterKey     string // base64; if empty, read or create DATADIR/master.key
	KeyFile       string // default DATADIR/master.key
	Region        string // the deployment's region (GB/T 2260), default 341881
	PublicURL     string // base URL phones reach; default http://ADDR
	AdminPassword string // first operator's password; generated and printed if empty
	MaxDependents int
	CoverageRatio float64
	Auth          auth.Config
	Log           *slog.Logger
	// LocalRegions are regions the deployment knows that GB/T 2260 lacks;
	// they are stored and then loaded at every start.
	LocalRegions []region.Region

	// Signed codes: lifetimes of dynamic and care codes (defaults 3 minutes
	// and 14 days).
	CodeTTL, CareCodeTTL time.Duration
	// Colours, Facts and Verifications replace, for tests, the status cache
	// the codes and check-ins answer colours from, the recorder of facts
	// (temperatures, test results, tracing's companions) and the recorder of
	// verification events; nil means the product's own (status.Service,
	// status.Service, checkin.Service).
	Colors        codes.Colors
	Facts         codes.FactRecorder
	Verifications codes.VerificationRecorder
	// AppealTTL is how long a granted appeal lasts when the operator gives
	// no end (default 7 days).
	AppealTTL time.Duration
	// PprofAddr, when set, serves the Go profiler (/debug/pprof/) on a
	// listener of its own at this address, never on the public one.
	PprofAddr string
	// TrustedProxies are the reverse proxies whose X-Forwarded-For names
	// the client address that per-address limits count.
	TrustedProxies clientaddr.Proxies

	// AuditHeadInterval is how often the audit log's head is signed with
	// the region's key (default 10 minutes; negative: never in the
	// background, only on demand).
	AuditHeadInterval time.Duration

	// Retention is how long check-ins and verifications are kept (default 28 days).
	Retention time.Duration
	// Keep is how long every other kind of personal data is kept.
	Keep RetentionPeriods
	// GroupCommitDelay is how long a check-in may wait for others to share
	// its transaction (default 0: a batch is what queued while the previous
	// one committed).
	GroupCommitDelay time.Duration
	// EventsWaitForFlush: on PostgreSQL, answer a check-in or a scan only
	// once its row is flushed (checkin.Config.WaitForFlush).
	EventsWaitForFlush bool
	// Tracing defaults: lookback (14 days) and overlap window (30 minutes),
	// and windows per venue kind.
	TracingLookback time.Duration
	TracingWindow   time.Duration
	TracingWindows  map[string]time.Duration
	// TripWindow is how far back the trip card looks (default 14 days);
	// TripMinStay is the stay after which a city counts (default 4 hours).
	TripWindow  time.Duration
	TripMinStay time.Duration
	// FollowUpDue is how long a grid worker has to visit a person whose
	// code turned red or yellow before the task escalates to the town
	// (default 24 hours).
	FollowUpDue time.Duration
	// SubjectTTL is how long the gateway's subject references last
	// (default 15 minutes).
	SubjectTTL time.Duration

	// SMSProvider carries text messages: "outbox" (the default: nothing
	// is sent, operators and demo residents read the outbox) or "kannel"
	// (Kannel's smsbox at Kannel). SMS is the rest of how they are sent;
	// its ReportURL defaults to PUBLIC-URL/api/v1/sms/dlr and its
	// ReportSecret to a key derived from the master key.
	SMSProvider string
	Kannel      sms.KannelConfig
	SMS         sms.Config

	// Hub, when set, is the federation hub's base URL: the node uploads its
	// trust list there, pulls every region's (every HubPull, default 1
	// minute) and asks other regions for live status within HubDeadline
	// (default 300 ms). HubKey is the hub's federation public key (PEM),
	// pinned.
	Hub         string
	HubKey      []byte
	HubDeadline time.Duration
	HubPull     time.Duration

	// Node names this process among the nodes that share the database (in
	// leases and job claims; default random). LeaseTTL is how long work
	// that runs on one node at a time (the scheduler, purges, colour-change
	// notices) waits before moving to another node when its node dies
	// (default 15 s).
	Node     string
	LeaseTTL time.Duration

	// DBOptions are PostgreSQL's connection settings: pool size and
	// statement timeout.
	DBOptions db.Options
	// Drain is how long a node that was told to stop keeps serving with
	// /readyz answering 503, so that the balancer stops sending it requests
	// before it stops accepting them (0: stop at once).
	Drain time.Duration
}

// RetentionPeriods are the retention periods of the kinds of personal data
// other than check-ins (docs/OPERATIONS.md, "Retention"). Zero takes the
// default; negative keeps the kind for ever.
type RetentionPeriods struct {
	Facts         time.Duration // facts and the colour history (default 180 days)
	Appeals       time.Duration // appeals, from their decision (default 180 days)
	Notifications time.Duration // colour-change notices and text messages (default 30 days)
	Sessions      time.Duration // sessions and one-time codes (default 30 days)
	Tests         time.Duration // test samples, results, retest tasks and alerts (default 90 days)
	Followup      time.Duration // tracing's follow-up tasks and reports (default 90 days)
	CareCodes     time.Duration // care codes, once expired (default 30 days)
	Gateway       time.Duration // what organisations recorded: purchases, clinic visits, hospital handoffs and tickets, ride handles, bookings, hall tickets and sign-ins (default 90 days)
	Vaccinations  time.Duration // vaccination appointments and dose records (default 2 years: a schedule spans months)
	Arrivals      time.Duration // arrivals registered at the border (default 90 days)
	ColdChain     time.Duration // handlers' scans of cold-chain batches and their exposures (default 90 days)
	ClosedLoop    time.Duration // isolation stays with their readings, transfers of positives, hotline tickets, once over (default 90 days)
}

// DefaultRetention is what a zero RetentionPeriods field takes.
var DefaultRetention = RetentionPeriods{
	Facts: 180 * 24 * time.Hour, Appeals: 180 * 24 * time.Hour, Notifications: 30 * 24 * time.Hour,
	Sessions: 30 * 24 * time.Hour, Tests: 90 * 24 * time.Hour, Followup: 90 * 24 * time.Hour,
	CareCodes: 30 * 24 * time.Hour, Gateway: 90 * 24 * time.Hour,
	Vaccinations: 730 * 24 * time.Hour, Arrivals: 90 * 24 * time.Hour, ColdChain: 90 * 24 * time.Hour,
	ClosedLoop: 90 * 24 * time.Hour,
}

func (p *RetentionPeriods) defaults() {
	for _, f := range []struct {
		v *time.Duration
		d time.Duration
	}{
		{&p.Facts, DefaultRetention.Facts}, {&p.Appeals, DefaultRetention.Appeals},
		{&p.Notifications, DefaultRetention.Notifications}, {&p.Sessions, DefaultRetention.Sessions},
		{&p.Tests, DefaultRetention.Tests}, {&p.Followup, DefaultRetention.Followup},
		{&p.CareCodes, DefaultRetention.CareCodes}, {&p.Gateway, DefaultRetention.Gateway},
		{&p.Vaccinations, DefaultRetention.Vaccinations}, {&p.Arrivals, DefaultRetention.Arrivals},
		{&p.ColdChain, DefaultRetention.ColdChain}, {&p.ClosedLoop, DefaultRetention.ClosedLoop},
	} {
		if *f.v == 0 {
			*f.v = f.d
		}
	}
}

func (c *Config) defaults() {
	c.Keep.defaults()
	if c.Addr == "" {
		c.Addr = "127.0.0.1:8080"
	}
	if c.DataDir == "" {
		c.DataDir = "data"
	}
	if c.DB == "" {
		c.DB = "sqlite:" + filepath.Join(c.DataDir, "healthcode.db")
	}
	if c.KeyFile == "" {
		c.KeyFile = filepath.Join(c.DataDir, "master.key")
	}
	if c.Region == "" {
		c.Region = "341881"
	}
	if c.PublicURL == "" {
		c.PublicURL = "http://" + c.Addr
	}
	if c.CoverageRatio == 0 {
		c.CoverageRatio = 0.9
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	c.Auth.Region = c.Region
}

// Server is the assembled product.
type Server struct {
	Config Config
	Log    *slog.Logger

	DB          *db.DB
	Leases      *lease.Keeper
	Keys        *secret.Keyring
	Regions     *region.Table
	Outbox      *sms.Outbox
	Auth        *auth.Service
	Persons     *person.Service
	Venues      *venue.Service
	Checkpoints *checkpoint.Service
	CodeKeys    *keys.Store
	AuditHeads  *audit.Anchor
	Codes       *codes.Service
	NAT         *nat.Service
	Status      *status.Service
	Checkins    *checkin.Service
	Tracing     *tracing.Service
	Orgs        *org.Service
	Gateway     *gateway.Service
	Pharmacy    *pharmacy.Service
	Clinic      *clinic.Service
	ColdChain   *coldchain.Service
	Grids       *grid.Service
	Hospital    *hospital.Service
	Ride        *ride.Service
	Booking     *booking.Service
	Hall        *hall.Service
	Transport   *transport.Service
	Employer    *employer.Service
	School      *school.Service
	// Federation is nil without Config.Hub.
	Federation *federation.Node
	Entry      *entry.Service
	Vaccine    *vaccine.Service
	RiskAreas  *riskarea.Service
	Trip       *trip.Service
	Isolation  *isolation.Service
	Hotline    *hotline.Service
	Retention  *retention.Runner
	Emergency  *emergency.State
	API        *api.Server
	Web        *web.Server

	// KeyCreated is true when this start generated the master key.
	KeyCreated bool

	registry *prometheus.Registry
	metrics  *metrics
	handler  http.Handler
	workers  sync.WaitGroup
	pprof    net.Addr
	// draining is set when the node was told to stop: /readyz answers 503
	// and every answer closes its connection.
	draining atomic.Bool
}

// New opens the store, migrates it and builds the services.
func New(ctx context.Context, cfg Config) (s *Server, err error) {
	cfg.defaults()
	s = &Server{Config: cfg, Log: cfg.Log, registry: prometheus.NewRegistry()}
	s.metrics = newMetrics(s.registry)
	// What was built is closed on failure: by srv, since "return nil, err"
	// has set s to nil by the time this runs.
	srv := s
	defer func() {
		if err != nil {
			srv.Close()
		}
	}()
	if s.DB, err = db.OpenWith(ctx, cfg.DB, cfg.DBOptions); err != nil {
		return nil, err
	}
	if err = s.DB.Migrate(ctx); err != nil {
		return nil, err
	}
	s.Leases = lease.New(s.DB, lease.Config{Node: cfg.Node, TTL: cfg.LeaseTTL, Log: s.Log, Metrics: s.registry})
	if cfg.MasterKey != "" {
		var master []byte
		if master, err = secret.Parse(cfg.MasterKey); err != nil {
			return nil, err
		}
		if s.Keys, err = secret.New(master); err != nil {
			return nil, err
		}
	} else if s.Keys, s.KeyCreated, err = secret.LoadOrCreate(cfg.KeyFile); err != nil {
		return nil, err
	}
	if err = saveLocalRegions(ctx, s.DB, cfg.LocalRegions); err != nil {
		return nil, err
	}
	if s.Regions, err = loadRegions(ctx, s.DB); err != nil {
		return nil, err
	}
	if err = s.Regions.Validate(cfg.Region); err != nil {
		return nil, fmt.Errorf("server: --region: %w", err)
	}
	if s.Outbox, err = newOutbox(s.DB, s.Keys, cfg, s.Log, s.registry); err != nil {
		return nil, err
	}
	authCfg := cfg.Auth
	authCfg.Metrics = s.registry
	authCfg.Log = s.Log
	// Operators may be scoped to a grid (grid workers): the grids are known
	// once the grid service exists, below.
	opRegions := &grid.Validator{Table: s.Regions}
	s.Auth = auth.New(s.DB, s.Keys, s.Outbox, opRegions, authCfg)
	if s.Persons, err = person.New(s.DB, s.Keys, s.Regions, person.Config{Region: cfg.Region, MaxDependents: cfg.MaxDependents}); err != nil {
		return nil, err
	}
	s.Persons.SetNotifier(s.Outbox)
	if s.Status, err = status.New(ctx, status.Deps{DB: s.DB, People: s.Persons, IDs: s.Persons.Handles(), SMS: s.Outbox,
		Hasher: s.Keys, Log: s.Log}, status.Config{AppealTTL: cfg.AppealTTL, Region: cfg.Region, Metrics: s.registry,
		Node: s.Leases.Node()}); err != nil {
		return nil, err
	}
	s.Venues = venue.New(s.DB, s.Regions)
	s.Checkpoints = checkpoint.New(s.DB, s.Auth, s.Regions)
	codeCfg := codes.Config{Region: cfg.Region, TTL: cfg.CodeTTL, CareTTL: cfg.CareCodeTTL, CacheTTL: cfg.Auth.CacheTTL,
		Metrics: s.registry}
	if s.CodeKeys, err = keys.Open(ctx, s.DB, s.Keys, keys.Config{Region: cfg.Region, Retain: codeCfg.MaxLifetime()}); err != nil {
		return nil, err
	}
	if created, err := s.CodeKeys.EnsureKey(ctx, codeformat.AlgEdDSA, "system"); err != nil {
		return nil, err
	} else if created {
		s.Log.Info("generated the region's first code-signing key", "alg", codeformat.AlgEdDSA, "kid", keys.KID(s.CodeKeys.Signer().KeyID()))
	}
	if s.Emergency, err = emergency.Open(ctx, s.DB); err != nil {
		return nil, err
	}
	// Tests may put fakes in the Config; the product uses its own services.
	colors, facts, verifications := cfg.Colors, cfg.Facts, cfg.Verifications
	if colors == nil {
		colors = s.Status
	}
	if facts == nil {
		facts = s.Status
	}
	s.Checkins = checkin.New(s.DB, s.Venues, s.Persons, colors, checkin.Config{Delay: cfg.GroupCommitDelay, WaitForFlush: cfg.EventsWaitForFlush, Retention: cfg.Retention,
		Metrics: s.registry})
	if err = s.Checkins.Prepare(ctx); err != nil {
		return nil, err
	}
	if path := s.DB.SQLitePath(); path != "" && path != ":memory:" {
		if err = s.Checkins.OpenJournal(ctx, checkin.JournalDir(path), s.Log); err != nil {
			return nil, err
		}
	}
	if verifications == nil {
		verifications = s.Checkins
	}
	codeDeps := codes.Deps{DB: s.DB, Keyring: s.Keys, Keys: s.CodeKeys, Persons: s.Persons,
		Checkpoints: s.Checkpoints, Colors: colors, Facts: facts, Verifications: verifications,
		Emergency: s.Emergency}
	if cfg.Hub != "" {
		hubKey, err := federation.ParsePublicPEM(cfg.HubKey)
		if err != nil {
			return nil, fmt.Errorf("server: --hub-key: %w", err)
		}
		if s.Federation, err = federation.NewNode(ctx, s.DB, s.Keys, colors, s.Persons.Handles(), federation.NodeConfig{
			Region: cfg.Region, Hub: cfg.Hub, HubKey: hubKey, Deadline: cfg.HubDeadline, Log: s.Log, Metrics: s.registry,
			StatusURL: strings.TrimRight(cfg.PublicURL, "/") + federation.PathStatus,
		}); err != nil {
			return nil, err
		}
		codeDeps.Federation = s.Federation
	}
	if s.Codes, err = codes.New(ctx, codeDeps, codeCfg); err != nil {
		return nil, err
	}
	s.NAT = nat.New(s.DB, s.Persons, s.Regions, nat.Deps{Facts: facts, Codes: s.Codes, Keys: s.CodeKeys, Posted: s.Status},
		nat.Config{Region: cfg.Region, Metrics: s.registry}, s.Log)
	if s.Tracing, err = tracing.New(s.DB, s.Checkins, s.Persons, s.Venues, s.Checkpoints, s.Auth, facts, tracing.Config{
		Lookback: cfg.TracingLookback, Window: cfg.TracingWindow, Windows: cfg.TracingWindows,
		MaxLookback: s.Checkins.Retention(), Log: s.Log, Metrics: s.registry, Node: s.Leases.Node(),
	}); err != nil {
		return nil, err
	}
	loc, lerr := time.LoadLocation("Asia/Shanghai")
	if lerr != nil {
		loc = time.FixedZone("CST", 8*3600)
	}
	s.Grids = grid.New(s.DB, s.Persons, s.Regions, s.Status, s.NAT, loc)
	opRegions.Grids = s.Grids
	s.Tracing.SetFollowUp(s.Status, s.Grids, cfg.FollowUpDue)
	s.Tracing.Start()
	s.Orgs = org.New(s.DB, s.Auth, s.Regions, org.Config{CacheTTL: cfg.Auth.CacheTTL, Location: loc, Metrics: s.registry})
	if s.Gateway, err = gateway.New(s.Orgs, s.Codes, s.Keys.Derive("gateway/subject", 32), gateway.Config{SubjectTTL: cfg.SubjectTTL, Metrics: s.registry}); err != nil {
		return nil, err
	}
	s.Pharmacy = pharmacy.New(pharmacy.Deps{DB: s.DB, Orgs: s.Orgs, Subjects: s.Gateway, Persons: s.Persons, Facts: facts,
		Colors: colors, Log: s.Log}, pharmacy.Config{Region: cfg.Region, Location: loc})
	s.Clinic = clinic.New(clinic.Deps{DB: s.DB, Orgs: s.Orgs, Subjects: s.Gateway, Persons: s.Persons, Facts: facts,
		Colors: colors, Log: s.Log}, clinic.Config{Location: loc})
	s.Hospital = hospital.New(hospital.Deps{DB: s.DB, Orgs: s.Orgs, Subjects: s.Gateway, Persons: s.Persons, Colors: colors,
		Log: s.Log}, hospital.Config{Location: loc})
	s.Ride = ride.New(s.DB, s.Orgs, s.Persons, colors)
	s.Booking = booking.New(s.DB, s.Orgs, s.Persons, s.Gateway, booking.Config{Location: loc, Metrics: s.registry})
	s.Hall = hall.New(hall.Deps{DB: s.DB, Orgs: s.Orgs, Scanner: s.Gateway, Persons: s.Persons, Bookings: s.Booking,
		Identities: s.Hospital}, hall.Config{Location: loc, Metrics: s.registry})
	s.Employer = employer.New(employer.Deps{DB: s.DB, Orgs: s.Orgs, Gateway: s.Gateway, Persons: s.Persons, Colors: colors, Location: loc})
	s.Transport = transport.New(transport.Deps{DB: s.DB, Orgs: s.Orgs, Venues: s.Venues, Rides: s.Checkins, Scanner: s.Gateway, Location: loc})
	s.School = school.New(school.Deps{DB: s.DB, Orgs: s.Orgs, Gateway: s.Gateway, Persons: s.Persons, Location: loc})
	s.Entry = entry.New(s.DB, s.Persons, s.Status, s.Codes, cfg.Region, s.Log)
	s.Status.SetCredentialChecker(appealCredentials{codes: s.Codes, entry: s.Entry})
	s.Vaccine = vaccine.New(s.DB, s.Persons, s.Regions, vaccine.Deps{Facts: facts, Codes: s.Codes, Keys: s.CodeKeys, SMS: s.Outbox},
		vaccine.Config{Region: cfg.Region, Location: loc, Metrics: s.registry}, s.Log)
	s.ColdChain = coldchain.New(coldchain.Deps{Metrics: s.registry, DB: s.DB, Orgs: s.Orgs, Subjects: s.Gateway, Persons: s.Persons, Facts: facts,
		Log: s.Log, Location: loc})
	s.RiskAreas = riskarea.New(s.DB, s.Regions)
	s.Trip = trip.New(trip.Deps{DB: s.DB, Keys: s.Keys, Regions: s.Regions, Areas: s.RiskAreas, Persons: s.Persons,
		Presence: s.Checkins, Venues: s.Venues, Checkpoints: s.Checkpoints, Facts: s.Status},
		trip.Config{Window: cfg.TripWindow, MinStay: cfg.TripMinStay})
	s.Checkins.SetAdmission(s.Trip)
	s.Codes.SetEntryPolicy(s.Trip, s.Checkins)
	s.Isolation = isolation.New(isolation.Deps{DB: s.DB, Persons: s.Persons, Codes: s.Codes, Facts: facts, Log: s.Log, Location: loc})
	s.Hotline = hotline.New(s.DB, s.Persons, s.Status, s.Regions)
	s.AuditHeads = audit.NewAnchor(s.DB, audit.AnchorConfig{Signer: s.CodeKeys, CodesIssued: s.Codes.IssuedSoFar,
		Verifications: s.Checkins.CountVerifications, Interval: cfg.AuditHeadInterval, Log: s.Log})
	s.Retention = s.retention()
	s.API = &api.Server{
		Config: api.Config{Region: cfg.Region, PublicURL: cfg.PublicURL, CoverageRatio: cfg.CoverageRatio},
		Log:    s.Log, DB: s.DB, Regions: s.Regions, Auth: s.Auth, Persons: s.Persons,
		Venues: s.Venues, Checkpoints: s.Checkpoints, Outbox: s.Outbox,
		Codes: s.Codes, CodeKeys: s.CodeKeys, AuditHeads: s.AuditHeads,
		Checkins: s.Checkins, Tracing: s.Tracing,
	}
	s.API.NAT = s.NAT
	s.API.Federation = s.Federation
	s.API.Status = s.Status
	s.API.Orgs, s.API.Gateway, s.API.Pharmacy = s.Orgs, s.Gateway, s.Pharmacy
	s.API.Clinic, s.API.Hospital, s.API.Ride = s.Clinic, s.Hospital, s.Ride
	s.API.Entry = s.Entry
	s.API.Vaccine = s.Vaccine
	s.API.RiskAreas, s.API.Trip = s.RiskAreas, s.Trip
	s.API.ColdChain = s.ColdChain
	s.API.Booking, s.API.Hall = s.Booking, s.Hall
	s.API.Employer, s.API.School = s.Employer, s.School
	s.API.Transport = s.Transport
	s.API.Isolation, s.API.Hotline = s.Isolation, s.Hotline
	s.API.Grids = s.Grids
	s.Web, err = web.New(web.Deps{
		Config: web.Config{Region: cfg.Region, PublicURL: cfg.PublicURL, CoverageRatio: cfg.CoverageRatio, Metrics: s.registry},
		Log:    s.Log, DB: s.DB, Keys: s.Keys, Regions: s.Regions, Auth: s.Auth, Persons: s.Persons,
		Venues: s.Venues, Checkpoints: s.Checkpoints, Outbox: s.Outbox,
		Codes: s.Codes, NAT: s.NAT, Facts: s.Status, Status: s.Status,
		Checkins: s.Checkins, Tracing: s.Tracing,
		Orgs: s.Orgs, Gateway: s.Gateway, Pharmacy: s.Pharmacy,
		Clinic: s.Clinic, Hospital: s.Hospital, Ride: s.Ride, Federation: s.Federation, Entry: s.Entry, Vaccine: s.Vaccine, ColdChain: s.ColdChain,
		Booking: s.Booking, Hall: s.Hall,
		Employer: s.Employer, School: s.School, Transport: s.Transport,
		RiskAreas: s.RiskAreas, Trip: s.Trip,
		Isolation: s.Isolation, Hotline: s.Hotline,
		Grids: s.Grids,
	})
	if err != nil {
		return nil, err
	}
	s.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	audit.RegisterMetrics(s.registry)
	s.handler = s.closeWhileDraining(cfg.TrustedProxies.Middleware(s.routes()))
	return s, nil
}

// retention lists every kind of personal data with its period and the
// feature that purges it. A feature that stores personal data registers
// here (vaccination records and cold-chain logs, when they land, are one
// Register call each, with a RetentionPeriods field and a flag).
func (s *Server) retention() *retention.Runner {
	k := s.Config.Keep
	r := retention.New(s.DB, s.Log)
	r.Register(retention.Kind{Name: "checkins", Period: s.Checkins.Retention(), Purge: s.Checkins.Purge})
	r.Register(retention.Kind{Name: "facts", Period: k.Facts, Purge: s.Status.PurgeFacts})
	r.Register(retention.Kind{Name: "appeals", Period: k.Appeals, Purge: s.Status.PurgeAppeals})
	r.Register(retention.Kind{Name: "notifications", Period: k.Notifications, Purge: s.Status.PurgeNotifications})
	r.Register(retention.Kind{Name: "sms", Period: k.Notifications, Purge: s.Outbox.Purge})
	r.Register(retention.Kind{Name: "sessions", Period: k.Sessions, Purge: s.Auth.Purge})
	r.Register(retention.Kind{Name: "tests", Period: k.Tests, Purge: s.NAT.Purge})
	r.Register(retention.Kind{Name: "followup", Period: k.Followup, Purge: s.Tracing.Purge})
	r.Register(retention.Kind{Name: "care_codes", Period: k.CareCodes, Purge: s.Codes.Purge})
	r.Register(retention.Kind{Name: "pharmacy", Period: k.Gateway, Purge: s.Pharmacy.Purge})
	r.Register(retention.Kind{Name: "clinic", Period: k.Gateway, Purge: s.Clinic.Purge})
	r.Register(retention.Kind{Name: "hospital", Period: k.Gateway, Purge: s.Hospital.Purge})
	r.Register(retention.Kind{Name: "ride", Period: k.Gateway, Purge: s.Ride.Purge})
	r.Register(retention.Kind{Name: "bookings", Period: k.Gateway, Purge: s.Booking.Purge})
	r.Register(retention.Kind{Name: "hall", Period: k.Gateway, Purge: s.Hall.Purge})
	r.Register(retention.Kind{Name: "employer", Period: k.Gateway, Purge: s.Employer.Purge})
	r.Register(retention.Kind{Name: "school", Period: k.Gateway, Purge: s.School.Purge})
	r.Register(retention.Kind{Name: "vaccinations", Period: k.Vaccinations, Purge: s.Vaccine.Purge})
	r.Register(retention.Kind{Name: "arrivals", Period: k.Arrivals, Purge: s.Entry.Purge})
	r.Register(retention.Kind{Name: "cold_chain", Period: k.ColdChain, Purge: s.ColdChain.Purge})
	// The carrier's stays live as long as check-ins, the other half of the trip card.
	r.Register(retention.Kind{Name: "trip_stays", Period: s.Checkins.Retention(), Purge: s.Trip.Purge})
	r.Register(retention.Kind{Name: "isolation", Period: k.ClosedLoop, Purge: s.Isolation.Purge})
	r.Register(retention.Kind{Name: "hotline", Period: k.ClosedLoop, Purge: s.Hotline.Purge})
	return r
}

// WindDown is the end of the emergency (`healthcode wind-down`): the
// destruction steps in the order the law asks, each by the features that
// own the tables. A feature that stores personal data adds its tables to a
// step here (a test fails for a table that is in no step and not listed as
// impersonal).
func (s *Server) WindDown() *winddown.Service {
	all := time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC) // a cutoff every row is before
	purge := func(fns ...retention.PurgeFunc) func(context.Context) error {
		return func(ctx context.Context) error {
			for _, fn := range fns {
				if _, err := fn(ctx, all); err != nil {
					return err
				}
			}
			return nil
		}
	}
	then := func(fns ...func(context.Context) error) func(context.Context) error {
		return func(ctx context.Context) error {
			for _, fn := range fns {
				if err := fn(ctx); err != nil {
					return err
				}
			}
			return nil
		}
	}
	rows := func(tables ...string) []winddown.Table {
		out := make([]winddown.Table, len(tables))
		for i, t := range tables {
			out[i] = winddown.Rows(t)
		}
		return out
	}
	// No retention purge covers these yet: they go with the persons (the
	// login limits' client addresses and the operators' known addresses too).
	linked := []string{"transport_drivers", "otp_counters", "login_backoff", "operator_addresses", "manager_requests", "dependents", "grid_members",
		"households", "imports", "accounts", "persons", "person_counts"}
	return winddown.New(winddown.Deps{DB: s.DB, Region: s.Config.Region, Emergency: s.Emergency, Log: s.Log,
		Signer: s.CodeKeys.Signer,
		Steps: []winddown.Step{
			{Name: "codes and keys",
				Tables: append(rows("care_codes"), winddown.Table{Name: "signing_keys.private",
					Count: `SELECT COUNT(*) FROM signing_keys WHERE private_enc IS NOT NULL`}),
				Destroy: then(purge(s.Codes.Purge), func(ctx context.Context) error {
					_, err := s.CodeKeys.DestroyPrivate(ctx)
					return err
				})},
			{Name: "check-ins", Tables: rows("checkins", "verifications", "verification_hours"), Destroy: purge(s.Checkins.Purge)},
			{Name: "facts", Tables: rows("facts", "fact_packs", "status_changes", "status", "status_counts", "appeals", "notifications",
				"notification_runs"),
				Destroy: then(purge(s.Status.PurgeFacts, s.Status.PurgeAppeals, s.Status.PurgeNotifications),
					winddown.DeleteAll(s.DB, "fact_packs", "status", "status_counts"))},
			{Name: "persons and everything linked to them",
				Tables: rows(append([]string{"sms_outbox", "sessions", "otps", "nat_samples", "nat_results", "nat_tasks", "nat_alerts",
					"nat_tested", "nat_negative_hours", "nat_swabs", "followup_tasks", "tracing_reports", "tracing_runs", "pharmacy_purchases", "clinic_visits", "hospital_handoffs",
					"hospital_tickets", "ride_handles", "vac_appointments", "vac_doses", "arrivals", "cc_exposures", "cc_handlings",
					"bk_bookings", "hall_tickets", "hall_logins",
					"employer_gate", "employer_staff", "school_checks", "school_entries", "school_pupils", "trip_stays",
					"iso_readings", "iso_stays", "iso_transfer_steps", "iso_transfers", "hotline_tickets"}, linked...)...),
				Destroy: then(purge(s.Outbox.Purge, s.Auth.Purge, s.NAT.Purge, s.Tracing.Purge, s.Pharmacy.Purge, s.Clinic.Purge,
					s.Hospital.Purge, s.Ride.Purge, s.Vaccine.Purge, s.Entry.Purge, s.ColdChain.Purge, s.Booking.Purge, s.Hall.Purge,
					s.Trip.Purge, s.Isolation.Purge, s.Hotline.Purge),
					s.Employer.Forget, s.School.Forget,
					winddown.DeleteAll(s.DB, linked...))},
		},
	})
}

// newOutbox builds the SMS outbox and its provider.
func newOutbox(d *db.DB, keys *secret.Keyring, cfg Config, log *slog.Logger, reg prometheus.Registerer) (*sms.Outbox, error) {
	c := cfg.SMS
	c.Log = log
	switch cfg.SMSProvider {
	case "", "outbox":
	case "kannel":
		k, err := sms.NewKannel(cfg.Kannel)
		if err != nil {
			return nil, err
		}
		c.Provider = k
		log.Info("text messages go through Kannel", "gateway", k.String())
	default:
		return nil, fmt.Errorf("server: --sms-provider %q: want outbox or kannel", cfg.SMSProvider)
	}
	if c.Provider == nil {
		c.Provider = sms.Hold{}
	}
	c.Provider = sms.Metered(c.Provider, reg)
	if c.ReportURL == "" {
		c.ReportURL = strings.TrimRight(cfg.PublicURL, "/") + api.Prefix + "/sms/dlr"
	}
	if len(c.ReportSecret) == 0 {
		c.ReportSecret = keys.Derive("sms/dlr", 32)
	}
	return sms.New(d, keys, c), nil
}

func saveLocalRegions(ctx context.Context, d *db.DB, rs []region.Region) error {
	return d.InTx(ctx, func(tx db.Tx) error {
		for _, r := range rs {
			if _, err := tx.ExecContext(ctx, `INSERT INTO local_regions (code, name, parent) VALUES ($1, $2, $3)
				ON CONFLICT (code) DO UPDATE SET name = excluded.name, parent = excluded.parent`, r.Code, r.Name, r.Parent); err != nil {
				return fmt.Errorf("server: save local region %s: %w", r.Code, err)
			}
		}
		return nil
	})
}

// loadRegions is the GB/T 2260 table plus the regions this deployment added.
func loadRegions(ctx context.Context, d *db.DB) (*region.Table, error) {
	extra, err := db.Collect(ctx, d, `SELECT code, name, parent FROM local_regions ORDER BY code`, nil, func(sc db.Scanner) (region.Region, error) {
		var r region.Region
		err := sc.Scan(&r.Code, &r.Name, &r.Parent)
		return r, err
	})
	if err != nil {
		return nil, fmt.Errorf("server: read local regions: %w", err)
	}
	if len(extra) == 0 {
		return region.Default(), nil
	}
	return region.Default().With(extra...)
}

// EnsureAdmin creates the first operator; the generated password, if any,
// is returned for printing once.
func (s *Server) EnsureAdmin(ctx context.Context) (generated string, err error) {
	_, generated, err = s.Auth.EnsureAdmin(ctx, s.Config.Region, s.Config.AdminPassword)
	return generated, err
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	apiHandler := s.API.Handler(s.registry)
	mux.Handle(api.Prefix+"/", apiHandler)
	mux.Handle(api.GatewayPrefix, apiHandler)
	mux.Handle("/", s.Web.Handler())
	if s.Federation != nil {
		mux.Handle("/federation/v1/", api.NodeFederationHandler(s.Federation, s.Log))
	}
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{}))
	// Liveness only: a store that is down makes /readyz fail, and a
	// liveness probe that failed with it would have every node restarted
	// during a database outage, which restarting cannot mend.
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.Write([]byte(`{"status":"ok"}`))
	})
	mux.HandleFunc("GET /readyz", s.readyz)
	return mux
}

// readyPing bounds the store's answer to a readiness check; staleCache is
// how far the status cache may lag the change log (the tail runs every
// 250 ms) before the node's colours are too old to answer.
const (
	readyPing  = time.Second
	staleCache = 5 * time.Second
)

// readyz tells a balancer whether to send this node requests: 200 when the
// store answers, the caches the answers come from are current and the node
// is not draining; 503 with the first reason otherwise. Both name the node.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	status, code := "ready", http.StatusOK
	if reason := s.notReady(r.Context()); reason != "" {
		status, code = reason, http.StatusServiceUnavailable
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]string{"status": status, "node": s.Leases.Node()})
}

func (s *Server) notReady(ctx context.Context) string {
	if s.draining.Load() {
		return "draining"
	}
	ctx, cancel := context.WithTimeout(ctx, readyPing)
	defer cancel()
	if err := s.DB.Ping(ctx); err != nil {
		return "database unavailable"
	}
	if time.Since(s.Status.CacheCurrent()) > staleCache {
		return "status cache behind"
	}
	if s.CodeKeys.Signer() == nil {
		return "no code-signing key"
	}
	return ""
}

// closeWhileDraining makes every answer of a draining node close its
// connection: the client's next request opens a new one, which the
// balancer sends elsewhere, and no idle keep-alive connection is left for
// the shutdown to cut under a request the client is sending on it.
func (s *Server) closeWhileDraining(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.draining.Load() {
			w.Header().Set("Connection", "close")
		}
		h.ServeHTTP(w, r)
	})
}

// Handler is the whole HTTP surface.
func (s *Server) Handler() http.Handler { return s.handler }

// Registry receives metrics of other components.
func (s *Server) Registry() prometheus.Registerer { return s.registry }

// Start runs the background workers until ctx ends. Caches are refreshed
// on every node (every); the work that must happen once for all the nodes
// sharing the database runs under a lease, on one node at a time, and moves
// to another node when that one dies (once).
func (s *Server) Start(ctx context.Context) {
	s.once(ctx, "purge expired sessions", 10*time.Minute, s.Auth.PurgeExpired)
	s.once(ctx, "create check-in partitions", time.Hour, s.Checkins.Prepare)
	s.once(ctx, "retention purge", time.Hour, s.Retention.Run)
	s.every(ctx, "read whether the emergency has ended", 5*time.Second, s.Emergency.Refresh)
	s.every(ctx, "reload code-signing keys", keys.ReloadPeriod, s.CodeKeys.Reload)
	s.once(ctx, "wipe retired private keys", time.Hour, s.CodeKeys.Prune)
	s.every(ctx, "refresh care-code revocations", 30*time.Second, s.Codes.RefreshRevocations)
	s.once(ctx, "nat: record facts of results left pending", time.Minute, s.NAT.RecordPending)
	s.every(ctx, "status cache tail", 250*time.Millisecond, s.Status.Tail)
	s.once(ctx, "status scheduler", time.Second, s.Status.RunDue)
	s.once(ctx, "status notifications", time.Second, s.Status.SendNotifications)
	// Every node looks for a recompute: the job itself is claimed under a
	// lease of its own, with a cursor another node resumes from.
	s.every(ctx, "rules recompute", time.Second, s.Status.RunRecompute)
	s.every(ctx, "count code shows", 15*time.Second, s.Codes.FlushShows)
	s.once(ctx, "fold registrations into the counts per region", time.Minute, s.Persons.FoldCounts)
	s.once(ctx, "fold verifications into the counts per hour", time.Minute, s.Checkins.FoldVerifications)
	s.once(ctx, "fold colour changes into the counts per region", time.Minute, s.Status.FoldColours)
	if s.Config.AuditHeadInterval >= 0 {
		s.once(ctx, "sign the audit log's head", s.AuditHeads.Interval(), s.AuditHeads.Tick)
	}
	s.every(ctx, "count gateway key use", org.FlushEvery, s.Orgs.Flush)
	s.once(ctx, "pharmacy: record facts of purchases left pending", time.Minute, s.Pharmacy.RecordPending)
	// The text sender runs on every node, outside the leases: it claims each
	// batch of messages for a lease of its own and shares the gateway's rate
	// through the database, so nodes never send a message twice, and a login
	// code queued on this node goes out at once rather than at the next tick
	// of whichever node held a lease.
	s.workers.Add(1)
	go func() {
		defer s.workers.Done()
		s.Outbox.Run(ctx)
	}()
	s.once(ctx, "clinic: record facts of visits left pending", time.Minute, s.Clinic.RecordPending)
	s.once(ctx, "coldchain: record exposures left pending", time.Minute, s.ColdChain.RecordPending)
	s.once(ctx, "vaccine: reminders of tomorrow's appointments", 10*time.Minute, s.Vaccine.SendReminders)
	s.once(ctx, "vaccine: record facts of doses left pending", time.Minute, s.Vaccine.RecordPending)
	if s.Federation != nil {
		pull := s.Config.HubPull
		if pull <= 0 {
			pull = federation.DefaultPullPeriod
		}
		s.once(ctx, "federation: upload the trust list", keys.ReloadPeriod, s.uploadTrust)
		s.every(ctx, "federation: pull the bundle", pull, s.pullBundle)
	}
}

// uploadTrust sends the published keys and the revoked care codes to the
// hub (only when they changed since the hub last took them).
func (s *Server) uploadTrust(ctx context.Context) error {
	return s.Federation.Upload(ctx, s.CodeKeys.TrustListJSON(), s.Codes.RevokedIDs())
}

// pullBundle pulls every region's trust list and rereads the colour policy,
// which an operator may have changed on another node.
func (s *Server) pullBundle(ctx context.Context) error {
	if err := s.Federation.LoadPolicy(ctx); err != nil {
		return err
	}
	// Uploading first (a no-op when the hub has it) makes the first pull
	// after a start already hold this region's own package.
	if err := s.uploadTrust(ctx); err != nil {
		s.Log.Warn("federation: upload before the pull failed", "err", err)
	}
	return s.Federation.Pull(ctx)
}

// every runs fn now and then every period until ctx ends, logging
// failures, on this node whatever the others do.
func (s *Server) every(ctx context.Context, name string, period time.Duration, fn func(context.Context) error) {
	s.workers.Add(1)
	go func() {
		defer s.workers.Done()
		s.loop(ctx, name, period, fn)
	}()
}

// once runs fn as every does, but only while this node holds the lease
// named name: on one of the nodes sharing the database at a time.
func (s *Server) once(ctx context.Context, name string, period time.Duration, fn func(context.Context) error) {
	s.workers.Add(1)
	go func() {
		defer s.workers.Done()
		s.Leases.Hold(ctx, name, func(ctx context.Context) { s.loop(ctx, name, period, fn) })
	}()
}

func (s *Server) loop(ctx context.Context, name string, period time.Duration, fn func(context.Context) error) {
	lastSuccess, errs, took := s.metrics.lastSuccess.WithLabelValues(name), s.metrics.errors.WithLabelValues(name),
		s.metrics.duration.WithLabelValues(name)
	t := time.NewTicker(period)
	defer t.Stop()
	failures := failureLog{log: s.Log, task: name}
	for {
		began := time.Now()
		err := fn(ctx)
		took.Observe(time.Since(began).Seconds())
		switch {
		case err == nil:
			lastSuccess.Set(float64(time.Now().UnixNano()) / 1e9)
			failures.succeeded()
		case ctx.Err() == nil:
			errs.Inc()
			failures.failed(err, time.Now())
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// ListenAndServe serves until ctx ends, then shuts down gracefully: /readyz
// turns 503 at once and the node keeps serving for Config.Drain, so the
// balancer stops sending it requests; then it stops accepting, lets
// requests in flight finish (up to 15 s) and stops the workers. Close,
// after, commits what the group commit holds and closes the store.
// ready, if not nil, receives the bound address once listening.
func (s *Server) ListenAndServe(ctx context.Context, ready func(addr net.Addr)) error {
	ln := s.Config.Listener
	var err error
	if ln == nil {
		if ln, err = net.Listen("tcp", s.Config.Addr); err != nil {
			return fmt.Errorf("server: listen on %s: %w", s.Config.Addr, err)
		}
	}
	// The read and write limits bound what a slow or stalled client can hold
	// (a lab's CSV upload and a tracing report fit well inside them).
	hs := &http.Server{Handler: s.handler, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 2 * time.Minute,
		WriteTimeout: 5 * time.Minute, IdleTimeout: 2 * time.Minute,
		ErrorLog: slog.NewLogLogger(s.Log.Handler(), slog.LevelWarn)}
	var ps *http.Server
	if s.Config.PprofAddr != "" {
		pln, err := net.Listen("tcp", s.Config.PprofAddr)
		if err != nil {
			ln.Close()
			return fmt.Errorf("server: listen on %s for pprof: %w", s.Config.PprofAddr, err)
		}
		s.pprof = pln.Addr()
		ps = &http.Server{Handler: pprofHandler(), ReadHeaderTimeout: 10 * time.Second}
		go ps.Serve(pln)
		defer ps.Close()
	}
	wctx, stopWorkers := context.WithCancel(context.WithoutCancel(ctx))
	s.Start(wctx)
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	if ready != nil {
		ready(ln.Addr())
	}
	select {
	case err = <-errc:
	case <-ctx.Done():
		s.draining.Store(true)
		if d := s.Config.Drain; d > 0 {
			s.Log.Info("draining: /readyz answers 503 while requests are still served", "for", d.String())
			select {
			case err = <-errc:
			case <-time.After(d):
			}
		}
		if err == nil {
			s.Log.Info("shutting down")
			sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			err = hs.Shutdown(sctx)
			cancel()
		}
	}
	stopWorkers()
	s.workers.Wait()
	if s.Config.AuditHeadInterval >= 0 {
		// A clean stop anchors what this run wrote (unless a node signed a
		// head moments ago): the periodic job may not have had its turn.
		hctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if herr := s.AuditHeads.Tick(hctx); herr != nil {
			s.Log.Warn("sign the audit log's head at shutdown", "err", herr)
		}
		cancel()
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// PprofAddr is where the profiler listens (ListenAndServe with
// Config.PprofAddr), or nil.
func (s *Server) PprofAddr() net.Addr { return s.pprof }

// pprofHandler serves the Go profiler on a mux of its own: the public
// handler never routes to it. Not the command line: it can hold a password
// (--admin-password).
func pprofHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

// Close releases the store. The tracing worker hands its run back to the
// queue, and the group-commit writers commit and answer whatever is queued
// before the store closes, so nothing acknowledged is lost.
func (s *Server) Close() error {
	if s.Tracing != nil {
		s.Tracing.Close()
	}
	if s.Checkins != nil {
		s.Checkins.Close()
	}
	if s.Orgs != nil {
		// What this node counted of the keys' daily quotas since the last
		// flush is not lost.
		if err := s.Orgs.Flush(context.Background()); err != nil {
			s.Log.Warn("gateway key use not counted at shutdown", "err", err)
		}
	}
	if s.DB != nil {
		return s.DB.Close()
	}
	return nil
}
