package web

// CatalogZH is every Chinese line of the catalogue, for the page walk that
// looks for one left in an English page.
func CatalogZH() map[string]string {
	out := make(map[string]string, len(catalog))
	for k, m := range catalog {
		out[m[ZH]] = k
	}
	return out
}
