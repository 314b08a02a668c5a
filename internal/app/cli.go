package app

import (
	"github.com/spf13/cobra"

	"onair/internal/control"
)

// ChannelCommand returns the `onair channel` CLI (a client of the control
// API), so main needs no role import.
func ChannelCommand() *cobra.Command { return control.Command() }

// TenantCommand is the `tenant` subcommand of the onair binary.
func TenantCommand() *cobra.Command { return control.TenantCommand() }
