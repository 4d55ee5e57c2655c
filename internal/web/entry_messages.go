package web

// The border desk's strings. They join the catalogue at start.
var entryMessages = map[string][2]string{
	"nav.entry":         {"入境登记", "Border entry"},
	"entry.desk":        {"入境人员登记", "Register an inbound traveller"},
	"entry.desk_hint":   {"扫描或粘贴旅客的欧盟数字新冠证书或SMART健康卡（二维码或健康卡文件的内容），先核验，再按护照填写信息并登记；登记后签发本地健康码（爱心码）供打印。", "Scan or paste the traveller's EU Digital COVID Certificate (HC1:) or SMART Health Card (shc:/, a JWS or a .smart-health-card file's content), check it, then fill in the passport details and register; a local code (care code) is issued to print."},
	"entry.credential":  {"境外健康凭证", "Foreign health credential"},
	"entry.verify":      {"核验凭证", "Check the credential"},
	"entry.register":    {"登记入境", "Register the arrival"},
	"entry.name":        {"姓名（与护照一致）", "Name (as in the passport)"},
	"entry.passport":    {"证件号码", "Document number"},
	"entry.phone":       {"本地手机号（可选）", "Local mobile number (optional)"},
	"entry.origin":      {"出发国家", "Origin country"},
	"entry.port":        {"入境口岸", "Port of entry"},
	"entry.transport":   {"交通方式", "Transport"},
	"entry.arrived":     {"抵达时间", "Arrived"},
	"entry.holder":      {"持有人", "Holder"},
	"entry.colour":      {"健康码", "Code colour"},
	"entry.recent":      {"最近登记的入境人员", "Recently registered arrivals"},
	"entry.none":        {"暂无入境登记。", "No arrivals registered yet."},
	"entry.valid":       {"凭证有效", "The credential is valid"},
	"entry.invalid":     {"凭证无效", "The credential is not valid"},
	"entry.format":      {"凭证格式", "Format"},
	"entry.kind":        {"证明类型", "Kind"},
	"entry.country":     {"签发国家", "Issuing country"},
	"entry.registered":  {"已登记入境：%s", "Arrival registered: %s"},
	"entry.print_code":  {"打印本地健康码", "Print the local code"},
	"entry.open_person": {"查看人员", "Open the person"},

	"entry.format.eu_dcc":         {"欧盟数字新冠证书", "EU Digital COVID Certificate"},
	"entry.format.shc":            {"SMART健康卡", "SMART Health Card"},
	"entry.kind.vaccination":      {"疫苗接种", "Vaccination"},
	"entry.kind.test":             {"检测", "Test"},
	"entry.kind.recovery":         {"康复", "Recovery"},
	"entry.transport.air":         {"航空", "Air"},
	"entry.transport.rail":        {"铁路", "Rail"},
	"entry.transport.road":        {"公路", "Road"},
	"entry.transport.water":       {"水路", "Water"},
	"entry.transport.other":       {"其他", "Other"},
	"entry.detail.result":         {"检测结果", "Result"},
	"entry.detail.sampled_at":     {"采样时间", "Sampled"},
	"entry.detail.test_type":      {"检测类型", "Test type"},
	"entry.detail.dose":           {"剂次", "Dose"},
	"entry.detail.doses":          {"总剂次", "Doses"},
	"entry.detail.date":           {"接种日期", "Date"},
	"entry.detail.product":        {"疫苗产品", "Product"},
	"entry.detail.first_positive": {"首次阳性日期", "First positive"},
	"entry.detail.valid_until":    {"有效期至", "Valid until"},
	"entry.detail.cards":          {"卡片数", "Cards"},
}

func init() {
	for k, v := range entryMessages {
		if _, dup := catalog[k]; dup {
			panic("web: catalogue key defined twice: " + k)
		}
		catalog[k] = v
	}
}
