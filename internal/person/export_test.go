package person

// SetBrowseWindow makes the window a page of a scope reads in number order
// n persons long, so that a test crosses it with a few; it returns the undo.
func SetBrowseWindow(n int) func() {
	old := browseWindow
	browseWindow = n
	return func() { browseWindow = old }
}
