package web

import (
	"net/http"
	"strings"

	"github.com/healthcode/healthcode/internal/auth"
	"github.com/healthcode/healthcode/internal/federation"
	"github.com/healthcode/healthcode/internal/rules"
)

// The federation page (联防互认): the hub, the last pull, every region of
// the bundle held with its keys, and the colour-mapping policy with its
// form.

var federationNav = []navEntry{{"nav.federation", "/console/federation", auth.RulesRead}}

func (s *Server) federationRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /console/federation", s.console(auth.RulesRead, s.federationPage))
	mux.HandleFunc("POST /console/federation/policy", s.console(auth.RulesActivate, s.setFederationPolicy))
}

type federationData struct {
	On      bool
	Info    federation.Info
	Policy  []federation.Rule
	Colors  []string
	Form    policyForm
	CanEdit bool
	Names   map[string]string
}

type policyForm struct {
	Region, Foreign, Local string
}

func (s *Server) federationPage(w http.ResponseWriter, r *http.Request, p *page) error {
	return s.showFederation(w, r, p, http.StatusOK, policyForm{Region: federation.AnyRegion, Foreign: "yellow", Local: "yellow"})
}

func (s *Server) showFederation(w http.ResponseWriter, r *http.Request, p *page, status int, f policyForm) error {
	d := federationData{On: s.Federation != nil, Colors: []string{"green", "yellow", "red"}, Form: f, CanEdit: p.Op.Can(auth.RulesActivate)}
	if d.On {
		var err error
		if d.Info, d.Policy, err = s.Federation.Overview(r.Context(), p.Op); err != nil {
			return err
		}
		d.Names = map[string]string{}
		for _, rg := range d.Info.Regions {
			d.Names[rg.Code] = s.Regions.FullName(rg.Code)
		}
	}
	p.Title, p.NavOn, p.Data = p.T("nav.federation"), "/console/federation", d
	s.render(w, r, status, "console_federation", p)
	return nil
}

func (s *Server) setFederationPolicy(w http.ResponseWriter, r *http.Request, p *page) error {
	f := policyForm{Region: strings.TrimSpace(r.PostFormValue("foreign_region")), Foreign: r.PostFormValue("foreign_color"),
		Local: r.PostFormValue("local_color")}
	err := error(federation.ErrNotFederated)
	if s.Federation != nil {
		fc, e1 := rules.ParseColor(f.Foreign)
		lc, e2 := rules.ParseColor(f.Local)
		switch {
		case e1 != nil || e2 != nil:
			err = federation.ErrBadColor
		default:
			err = s.Federation.SetPolicy(r.Context(), p.Op, f.Region, fc, lc)
		}
	}
	if err != nil {
		return s.formErr(w, r, p, err, func(st int) error { return s.showFederation(w, r, p, st, f) })
	}
	s.flash(w, r, "flash.federation_policy", f.Region)
	redirect(w, r, "/console/federation")
	return nil
}

var federationMessages = map[string][2]string{
	"nav.federation":                {"联防互认", "Federation"},
	"fed.off":                       {"本部署未接入互认枢纽（启动时加 --hub 与 --hub-key）。", "This deployment is not joined to a federation hub (start it with --hub and --hub-key)."},
	"fed.hub":                       {"互认枢纽", "Hub"},
	"fed.last_pull":                 {"最近拉取", "Last pull"},
	"fed.last_upload":               {"最近上传本地区信任列表", "Last upload of this region's trust list"},
	"fed.last_error":                {"最近错误", "Last error"},
	"fed.never":                     {"尚未", "never"},
	"fed.deadline":                  {"实时状态时限", "Live status deadline"},
	"fed.regions":                   {"互认地区", "Regions"},
	"fed.region":                    {"地区", "Region"},
	"fed.own":                       {"本地区", "this region"},
	"fed.keys":                      {"签名密钥", "Signing keys"},
	"fed.revoked":                   {"已作废爱心码", "Revoked care codes"},
	"fed.not_uploaded":              {"尚未上传", "not uploaded yet"},
	"fed.policy":                    {"颜色映射", "Colour mapping"},
	"fed.policy_hint":               {"外地颜色在本地的读法；未设置的颜色按原色。* 表示所有没有单独规则的地区。", "How a foreign colour reads here; a colour without a rule reads as itself. * is every region without a rule of its own."},
	"fed.foreign_region":            {"外地地区", "Foreign region"},
	"fed.foreign_color":             {"外地颜色", "Foreign colour"},
	"fed.local_color":               {"本地读作", "Reads here as"},
	"fed.no_policy":                 {"无映射规则：外地颜色按原色。", "No rules: foreign colours read as themselves."},
	"fed.updated":                   {"修改", "Changed"},
	"flash.federation_policy":       {"已更新 %s 的颜色映射。", "Colour mapping for %s updated."},
	"err.federation_not_configured": {"本部署未接入互认枢纽。", "This deployment is not joined to a federation hub."},
	"err.color_invalid":             {"颜色须为绿、黄或红。", "A colour is green, yellow or red."},
	"err.region_invalid":            {"地区代码须为六位数字，或 *。", "A region code is six digits, or *."},
}

func init() {
	for k, v := range federationMessages {
		if _, dup := catalog[k]; dup {
			panic("web: catalogue key defined twice: " + k)
		}
		catalog[k] = v
	}
}
