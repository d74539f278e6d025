package failpoint

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
)

// stubCrash replaces the crash with a recorder for the test.
func stubCrash(t *testing.T) *[]string {
	t.Helper()
	var crashed []string
	old := crash
	crash = func(name string) { crashed = append(crashed, name) }
	t.Cleanup(func() { crash = old; DisarmAll() })
	return &crashed
}

func TestInjectOff(t *testing.T) {
	stubCrash(t)
	require.NoError(t, Inject("a"))
	require.NoError(t, Arm("b", Spec{Action: Error}))
	require.NoError(t, Inject("a"), "another point is armed")
	require.NoError(t, Arm("b", Spec{Action: Off}))
	require.False(t, anyArmed.Load())
	require.NoError(t, Inject("b"))
}

func TestInjectActions(t *testing.T) {
	crashed := stubCrash(t)
	require.NoError(t, Arm("e", Spec{Action: Error}))
	for range 3 {
		require.ErrorIs(t, Inject("e"), ErrInjected, "error fires on every hit")
	}
	require.NoError(t, Arm("c", Spec{Action: Crash}))
	_ = Inject("c")
	require.Equal(t, []string{"c"}, *crashed)

	require.NoError(t, Arm("full", Spec{Action: NoSpace}))
	for range 2 {
		err := Inject("full")
		require.ErrorIs(t, err, syscall.ENOSPC, "enospc models a full disk")
		require.ErrorIs(t, err, ErrInjected, "and is known as injected")
		require.ErrorContains(t, err, "failpoint full: no space left on device")
	}
	require.Equal(t, []string{"c"}, *crashed, "enospc does not crash")
}

func TestInjectNoSpaceCount(t *testing.T) {
	stubCrash(t)
	require.NoError(t, ArmFromString("full=enospc,count:2"))
	require.Equal(t, "full=enospc,count:2", String())
	require.NoError(t, Inject("full"))
	require.ErrorIs(t, Inject("full"), syscall.ENOSPC)
	require.NoError(t, Inject("full"), "spent after firing")
}

func TestInjectCount(t *testing.T) {
	crashed := stubCrash(t)
	require.NoError(t, Arm("e", Spec{Action: Error, Count: 3}))
	require.NoError(t, Inject("e"))
	require.NoError(t, Inject("e"))
	require.ErrorIs(t, Inject("e"), ErrInjected)
	require.NoError(t, Inject("e"), "spent after firing")
	require.False(t, anyArmed.Load())

	require.NoError(t, Arm("c", Spec{Action: Crash, Count: 2}))
	_ = Inject("c")
	require.Empty(t, *crashed)
	_ = Inject("c")
	require.Equal(t, []string{"c"}, *crashed)
}

func TestArmFromString(t *testing.T) {
	stubCrash(t)
	for _, tc := range []struct {
		in, want, err string
	}{
		{in: "", want: ""},
		{in: "a/b=crash", want: "a/b=crash"},
		{in: " a = error ; b=crash,count:4;", want: "a=error;b=crash,count:4"},
		{in: "a=error;a=off", want: ""},
		{in: "disk=enospc", want: "disk=enospc"},
		{in: "a", err: "want name=action"},
		{in: "=crash", err: "want name=action"},
		{in: "a=explode", err: "unknown action"},
		{in: "a=crash,count:0", err: "bad count"},
		{in: "a=crash,times:2", err: "bad modifier"},
		{in: "ok=crash;a=nope", err: "unknown action"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			DisarmAll()
			err := ArmFromString(tc.in)
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				require.Empty(t, String(), "a bad list arms nothing")
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, String())
		})
	}
}

func TestHandler(t *testing.T) {
	stubCrash(t)
	do := func(h http.Handler, method, url string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(method, url, nil))
		return rec
	}
	off := Handler(false)
	rec := do(off, http.MethodPost, "/api/debug/failpoints?name=a&action=error")
	require.Equal(t, http.StatusForbidden, rec.Code)
	require.NoError(t, Inject("a"), "a refused request arms nothing")

	on := Handler(true)
	rec = do(on, http.MethodPost, "/api/debug/failpoints?name=a&action=error")
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	require.Equal(t, "a=error\n", rec.Body.String())
	require.True(t, errors.Is(Inject("a"), ErrInjected))
	rec = do(on, http.MethodPost, "/api/debug/failpoints?name=a&action=enospc")
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	require.Equal(t, "a=enospc\n", rec.Body.String())
	require.ErrorIs(t, Inject("a"), syscall.ENOSPC)
	rec = do(on, http.MethodPost, "/api/debug/failpoints?name=a&action=bogus")
	require.Equal(t, http.StatusBadRequest, rec.Code)
	rec = do(on, http.MethodPost, "/api/debug/failpoints?name=a&action=off")
	require.Equal(t, http.StatusOK, rec.Code)
	require.NoError(t, Inject("a"))
	rec = do(on, http.MethodGet, "/api/debug/failpoints")
	require.Equal(t, "", strings.TrimSpace(rec.Body.String()))
	rec = do(on, http.MethodDelete, "/api/debug/failpoints")
	require.Equal(t, http.StatusMethodNotAllowed, rec.Code)
}

// BenchmarkInjectOff measures a disarmed point, the cost every call site
// pays in production.
//
//	go test -run '^$' -bench InjectOff -count 6 ./failpoint/ | benchstat -
func BenchmarkInjectOff(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if err := Inject("bench/point"); err != nil {
			b.Fatal(err)
		}
	}
}
