package web

// The trip card's and the risk-area registry's strings.
var tripMessages = map[string][2]string{
	"nav.risk_areas": {"风险地区", "Risk areas"},

	"nav.venue_policies":         {"场所准入规则", "Venue entry policies"},
	"cp.venue_kind":              {"场所类型（准入规则）", "Venue kind (entry policy)"},
	"cp.kind_none":               {"无", "None"},
	"cp.kind_save":               {"保存类型", "Save kind"},
	"vp.c_list":                  {"场所准入规则", "Venue entry policies"},
	"vp.hint":                    {"按场所类型或单个场所设置：扫场所码登记时，以及设为该类型的卡口核验时，拒绝下列人员进入并说明原因；只统计拒绝次数，不记录是谁。单个场所的规则优先于其类型的规则。", "Per kind of venue or per venue: at a check-in, and at a verification by a checkpoint set to that kind, these people are turned away with the reason; refusals are counted, never who. A venue's own policy wins over its kind's."},
	"vp.none":                    {"尚未设置准入规则，所有场所允许进入。", "No policy yet: every venue admits everyone."},
	"vp.applies_to":              {"适用于", "Applies to"},
	"vp.refuses":                 {"拒绝", "Refuses"},
	"vp.untested":                {"核酸时限", "Test window"},
	"vp.hours":                   {"%s小时内阴性", "negative within %s h"},
	"vp.no_test":                 {"不要求", "not required"},
	"vp.updated":                 {"更新时间", "Updated"},
	"vp.scope_kind":              {"场所类型", "Kind of venue"},
	"vp.scope_venue":             {"场所", "Venue"},
	"vp.red":                     {"红码", "Red code"},
	"vp.yellow":                  {"黄码", "Yellow code"},
	"vp.starred":                 {"行程卡带星号", "Starred trip card"},
	"vp.remove":                  {"删除", "Remove"},
	"vp.c_set":                   {"设置准入规则", "Set a policy"},
	"vp.venue_any":               {"（不指定，按类型）", "(none: by kind)"},
	"vp.untested_hint":           {"留空或0为不要求核酸", "empty or 0: no test required"},
	"vp.save":                    {"保存", "Save"},
	"flash.venue_policy_set":     {"准入规则已保存。", "Policy saved."},
	"flash.venue_policy_removed": {"准入规则已删除。", "Policy removed."},
	"more.trip":                  {"通信行程卡", "Trip card"},

	"trip.title":     {"通信行程卡", "Trip card"},
	"trip.window":    {"%d天内到达或途经（停留4小时以上）：", "Cities stayed in (over 4 hours) in the last %d days:"},
	"trip.none":      {"近期没有到达或途经的城市记录。", "No city recorded in this period."},
	"trip.starred":   {"* 表示当前该城市有中高风险地区，并不代表您去过中高风险地区。", "* means the city has a medium- or high-risk area now, not that you were in it."},
	"trip.star_hint": {"该城市有中高风险地区", "The city has a medium- or high-risk area"},
	"trip.hint":      {"行程卡只需手机号登录即可查看，不收集身份证号。数据来自电信运营商和您的场所码、卡口核验记录。", "The trip card needs only a phone login; no ID number is collected. It comes from the carrier and your venue check-ins and checkpoint scans."},
	"trip.open":      {"查看行程卡", "Open the trip card"},

	"risk.c_registry":     {"风险地区登记", "Risk-area registry"},
	"risk.c_publish":      {"发布风险地区", "Publish a risk area"},
	"risk.c_import":       {"批量导入风险地区（CSV）", "Import risk areas (CSV)"},
	"risk.open_data":      {"公开数据：", "Open data:"},
	"risk.name":           {"具体地点", "Place"},
	"risk.name_hint":      {"如某小区、某楼栋；留空为整个地区", "a compound or building; empty for the whole region"},
	"risk.level":          {"风险等级", "Level"},
	"risk.level_low":      {"低风险", "Low"},
	"risk.level_medium":   {"中风险", "Medium"},
	"risk.level_high":     {"高风险", "High"},
	"risk.from":           {"开始时间", "From"},
	"risk.until":          {"结束时间", "Until"},
	"risk.state":          {"状态", "State"},
	"risk.active":         {"生效中", "In force"},
	"risk.inactive":       {"未生效或已到期", "Not in force"},
	"risk.withdrawn":      {"已撤销", "Withdrawn"},
	"risk.withdraw":       {"撤销", "Withdraw"},
	"risk.none":           {"暂无风险地区。", "No risk area."},
	"risk.publish":        {"发布", "Publish"},
	"risk.dry_run":        {"预演影响", "Dry run"},
	"risk.dry_summary":    {"该城市窗口期内有 %d 人停留；其中 %d 人的健康码将改变（您辖区内）：", "%d persons stayed in the city within the window; %d in your scope would change colour:"},
	"risk.person":         {"人员编号", "Person"},
	"risk.change":         {"变化", "Change"},
	"risk.import_summary": {"共 %d 行，导入 %d 行，拒绝 %d 行；新增到访记录 %d 条。", "%d lines, %d imported, %d refused; %d visit facts added."},

	"risk.geometry":      {"范围（GeoJSON，可选）", "Shape (GeoJSON, optional)"},
	"risk.geometry_hint": {"如 {\"type\":\"Polygon\",\"coordinates\":[[[118.78,32.03],[118.86,32.03],[118.86,32.10],[118.78,32.03]]]}；坐标为 [经度, 纬度]（WGS 84）；留空为无", "e.g. {\"type\":\"Polygon\",\"coordinates\":[[[118.78,32.03],[118.86,32.03],[118.86,32.10],[118.78,32.03]]]}; positions are [longitude, latitude] (WGS 84); empty for none"},
	"risk.shape":         {"范围", "Shape"},
	"risk.has_shape":     {"有", "Yes"},
	"risk.public_page":   {"公开页面", "Public page"},
	"risk.p_title":       {"中高风险地区", "Risk areas"},
	"risk.p_intro":       {"当前生效及已公布的风险地区。到过带星号城市的人员，请留意当地防控要求。", "Risk areas in force now or announced. If you were in a starred city, follow the local rules."},
	"risk.p_map":         {"风险地区示意图", "Map of risk areas"},
	"risk.p_map_note":    {"示意图只画出发布时给出范围的地区，其余见列表。", "The map shows the areas published with a shape; the list has all of them."},
	"risk.p_list":        {"风险地区列表", "List of risk areas"},

	"flash.risk_area_published": {"已发布风险地区：%s。", "Risk area published: %s."},
	"flash.risk_area_withdrawn": {"已撤销风险地区：%s。", "Risk area withdrawn: %s."},
}

func init() {
	for k, v := range tripMessages {
		if _, dup := catalog[k]; dup {
			panic("web: catalogue key defined twice: " + k)
		}
		catalog[k] = v
	}
}
