package web

// Strings of what a newcomer asked for: the scanner that says where it
// stands and signs in from a QR, a checkpoint's new key, the console's
// audit names and tracing by person search. They join the catalogue at
// start; a key both define is a bug.
var newcomerMessages = map[string][2]string{
	"cp.copy":            {"复制密钥", "Copy the key"},
	"cp.copied":          {"已复制", "Copied"},
	"cp.qr_label":        {"“%s”的扫码登录二维码", "QR that signs the scanner of “%s” in"},
	"cp.new_key":         {"换新密钥", "New key"},
	"cp.new_key_confirm": {"换新密钥后，旧密钥立即失效，使用旧密钥的设备需重新登录。继续？", "The old key stops at once; devices that use it must sign in again. Go on?"},

	"scan.checkpoint": {"核验点", "Checkpoint"},

	"err.color_filter_invalid": {"颜色筛选只能是黄码或红码。", "The colour filter is yellow or red."},
	"persons.color":            {"健康码", "Code"},
	"persons.any_color":        {"全部颜色", "Any colour"},

	"tracing.find_case": {"查找病例", "Find the case"},
	"tracing.past_runs": {"流调批次记录", "Past runs"},
	"tracing.no_runs":   {"还没有流调批次。", "No runs yet."},

	"tube.members": {"管内人员", "Who is in this tube"},

	"rules.diff":         {"版本对比", "Compare versions"},
	"rules.diff_against": {"对比版本", "Compare with"},
	"rules.diff_show":    {"对比", "Compare"},
	"rules.diff_lead":    {"从第 %d 版到第 %d 版的改动：红色为删去的行，绿色为新增的行。", "What changed from version %d to version %d: removed lines in red, added lines in green."},
	"rules.diff_none":    {"两个版本内容相同。", "The two versions are the same."},

	"actor.system":   {"系统", "System"},
	"actor.resident": {"居民本人", "The resident"},
	"actor.key":      {"密钥：%s", "Key: %s"},
	"js.checkpoint":  {"本设备所属核验点", "This device's checkpoint"},

	"err.checkpoint_disabled": {"核验点已停用；启用后会生成新密钥。", "The checkpoint is disabled; enabling it issues a new key."},
}

func init() {
	for k, v := range newcomerMessages {
		if _, dup := catalog[k]; dup {
			panic("web: catalogue key defined twice: " + k)
		}
		catalog[k] = v
	}
}
