package app

import (
	"errors"
	"strings"
	"testing"
	"time"

	"onair/internal/config"
	"onair/internal/control"
	"onair/internal/store"
)

func TestChannelInputs(t *testing.T) {
	m := &channels{cfg: config.Default()}
	off, on := false, true
	for _, tc := range []struct {
		name    string
		api     control.InputSettings
		check   func(config.Inputs) bool
		wantErr string
	}{
		{"none: the server's", control.InputSettings{}, func(in config.Inputs) bool { return in == config.DefaultInputs() }, ""},
		{"loss and clear", control.InputSettings{LossAfter: "2s", ClearAfter: "30s"},
			func(in config.Inputs) bool { return in.LossAfter == 2*time.Second && in.ClearAfter == 30*time.Second }, ""},
		{"content checks", control.InputSettings{BlackAfter: "3s", SilentAfter: "5s"},
			func(in config.Inputs) bool {
				return in.BlackAfter == 3*time.Second && in.SilentAfter == 5*time.Second && in.ContentChecks()
			}, ""},
		{"slate off", control.InputSettings{Slate: &off}, func(in config.Inputs) bool { return !in.Slate }, ""},
		{"slate text", control.InputSettings{Slate: &on, SlateText: "Back soon"}, func(in config.Inputs) bool { return in.Slate && in.SlateText == "Back soon" }, ""},
		{"loss too short", control.InputSettings{LossAfter: "10ms"}, nil, "inputs.loss_after: 10ms out of range"},
		{"not a duration", control.InputSettings{FrozenAfter: "later"}, nil, "inputs.frozen_after"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := inputSettings(tc.api)
			if err == nil {
				var in config.Inputs
				in, err = m.channelInputs(s)
				if err == nil {
					if !tc.check(in) {
						t.Fatalf("merged %+v", in)
					}
					// What the API shows is what was asked.
					back := apiInputSettings(s)
					if s != (store.InputSettings{}) && (back == nil || back.LossAfter != normal(tc.api.LossAfter) || back.SlateText != tc.api.SlateText) {
						t.Errorf("shown back as %+v", back)
					}
					return
				}
			}
			if tc.wantErr == "" || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err %v, want %q", err, tc.wantErr)
			}
			if strings.Contains(tc.wantErr, "not") && !errors.Is(err, control.ErrInvalid) {
				t.Errorf("err %v does not wrap ErrInvalid", err)
			}
		})
	}
}

// normal is d as time.Duration.String writes it.
func normal(d string) string {
	if d == "" {
		return ""
	}
	v, _ := time.ParseDuration(d)
	return v.String()
}
