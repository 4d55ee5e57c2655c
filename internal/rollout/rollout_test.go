package rollout

import "testing"

func TestTarget(t *testing.T) {
	// Figures from Ningguo's 2020 task table: target = population x 90%, rounded up.
	for _, tc := range []struct {
		pop   int64
		ratio float64
		want  int64
	}{
		{59377, 0.9, 53440}, {32683, 0.9, 29415}, {11289, 0.9, 10161}, {5005, 0.9, 4505},
		{100, 0.9, 90}, {0, 0.9, 0}, {1, 0.9, 1}, {10, 1, 10}, {7, 0.5, 4},
	} {
		if got := Target(tc.pop, tc.ratio); got != tc.want {
			t.Errorf("Target(%d, %v) = %d, want %d", tc.pop, tc.ratio, got, tc.want)
		}
	}
}
