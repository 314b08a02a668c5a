package control

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"
)

// Defaults of the channel command's connection flags.
const (
	DefaultAPI = "http://127.0.0.1:8080"
	envAPI     = "ONAIR_API"
	envToken   = "ONAIR_TOKEN"
)

// cliOptions are the flags shared by every channel subcommand.
type cliOptions struct {
	api   string
	token string
	json  bool
}

// client builds a Client from the flags, falling back to $ONAIR_API and
// $ONAIR_TOKEN when a flag was not given. The token is never a flag default,
// so --help cannot print it.
func (o *cliOptions) client(cmd *cobra.Command) (*Client, error) {
	api := o.api
	if !cmd.Flags().Changed("api") {
		if v := os.Getenv(envAPI); v != "" {
			api = v
		}
	}
	token := o.token
	if !cmd.Flags().Changed("token") {
		token = os.Getenv(envToken)
	}
	return NewClient(api, token, nil)
}

// cliError shows an API error as the server's message alone; cobra prints
// it after the "onair:" prefix.
type cliError struct{ err error }

func (e cliError) Error() string { return errorMessage(e.err) }
func (e cliError) Unwrap() error { return e.err }

// Command returns the `channel` command with its subcommands create, list,
// show, start, stop and delete. They talk HTTP to --api (default $ONAIR_API
// or DefaultAPI) with --token (default $ONAIR_TOKEN), print human-readable
// text or, with --json, the API's JSON. Errors are returned (for a non-zero
// exit) and printed by cobra as "onair: <message>".
func Command() *cobra.Command {
	o := &cliOptions{}
	cmd := &cobra.Command{
		Use:   "channel",
		Short: "Create, inspect, start, stop and delete channels through the API",
		Long: "Manage channels on a running onair server through its REST API.\n\n" +
			"The API address comes from --api or $" + envAPI + " (default " + DefaultAPI + "),\n" +
			"the operator token from --token or $" + envToken + ".",
	}
	cmd.SetErrPrefix("onair:")
	o.flags(cmd)

	var lowLatency bool
	var pipelines, accessMode, drmScheme, tenantID string
	var rotate int64
	create := &cobra.Command{
		Use:   "create NAME",
		Short: "Create a channel and print its ingest and playback URLs",
		Args:  cobra.ExactArgs(1),
		RunE: o.run(func(ctx context.Context, c *Client, w io.Writer, args []string) error {
			spec := ChannelSpec{Name: args[0], LowLatency: lowLatency, Pipelines: pipelines, Access: accessMode, Tenant: tenantID}
			if drmScheme != "" || rotate != 0 {
				spec.DRM = &DRM{Scheme: drmScheme, RotateEvery: rotate}
			}
			ch, err := c.CreateChannel(ctx, spec)
			if err != nil {
				return err
			}
			return o.print(w, ch, func() { printChannel(w, ch) })
		}),
	}
	create.Flags().BoolVar(&lowLatency, "low-latency", false, "low-latency channel (LL-HLS parts, shorter live delay)")
	create.Flags().StringVar(&pipelines, "pipelines", "", `"standard" (two output-locked pipelines, A and B) or "single"; default: the server's pipelines.mode`)

	create.Flags().StringVar(&accessMode, "access", "", `"signed": playback needs a token (onair channel token); default "public"`)
	create.Flags().StringVar(&drmScheme, "drm", "", `encryption: "aes128" (HLS), "cbcs" (HLS and DASH) or "cenc" (DASH); default clear`)
	create.Flags().Int64Var(&rotate, "drm-rotate", 0, "change the content key every N segments (0: one key)")
	create.Flags().StringVar(&tenantID, "tenant", "", "tenant owning the channel (operators; a tenant key creates in its own)")

	var tokenReq TokenRequest
	token := &cobra.Command{
		Use:   "token NAME",
		Short: "Issue a signed playback token and print the playback URLs that carry it",
		Args:  cobra.ExactArgs(1),
		RunE: o.run(func(ctx context.Context, c *Client, w io.Writer, args []string) error {
			tok, err := c.IssueToken(ctx, args[0], tokenReq)
			if err != nil {
				return err
			}
			return o.print(w, tok, func() {
				fmt.Fprintf(w, "token    %s\nexpires  %s\nsession  %s\nresource %s\nHLS      %s\nDASH     %s\n",
					tok.Token, tok.Expires.Format(time.RFC3339), tok.Session, tok.Resource, tok.Playback.HLS, tok.Playback.DASH)
			})
		}),
	}
	token.Flags().StringVar(&tokenReq.TTL, "ttl", "", "lifetime, e.g. 30m (default: the server's signing.token_ttl)")
	token.Flags().StringVar(&tokenReq.IP, "ip", "", "restrict to a client address or CIDR prefix")
	token.Flags().StringVar(&tokenReq.Session, "session", "", "viewer session ID (default a new random one)")
	token.Flags().StringVar(&tokenReq.UserID, "user-id", "", "the viewer's user id, stored encrypted with the session")
	token.Flags().StringVar(&tokenReq.UserAgent, "user-agent", "", "the viewer's user agent, stored encrypted with the session")

	pipeline := &cobra.Command{
		Use:   "pipeline NAME a|b promote|stop|start",
		Short: "Promote, stop or start one pipeline of a standard-mode channel",
		Args:  cobra.ExactArgs(3),
		RunE: o.run(func(ctx context.Context, c *Client, w io.Writer, args []string) error {
			ch, err := c.PipelineAction(ctx, args[0], args[1], args[2])
			if err != nil {
				return err
			}
			return o.print(w, ch, func() { printChannel(w, ch) })
		}),
	}

	list := &cobra.Command{
		Use:   "list",
		Short: "List channels",
		Args:  cobra.NoArgs,
		RunE: o.run(func(ctx context.Context, c *Client, w io.Writer, _ []string) error {
			chans, err := c.ListChannels(ctx)
			if err != nil {
				return err
			}
			return o.print(w, ChannelList{Channels: chans}, func() { printChannelList(w, chans) })
		}),
	}

	show := &cobra.Command{
		Use:   "show NAME",
		Short: "Show a channel: state, input, renditions, ingest and playback URLs",
		Args:  cobra.ExactArgs(1),
		RunE: o.run(func(ctx context.Context, c *Client, w io.Writer, args []string) error {
			ch, err := c.GetChannel(ctx, args[0])
			if err != nil {
				return err
			}
			return o.print(w, ch, func() { printChannel(w, ch) })
		}),
	}

	start := &cobra.Command{
		Use:   "start NAME",
		Short: "Enable a channel so that its publisher is accepted",
		Args:  cobra.ExactArgs(1),
		RunE: o.run(func(ctx context.Context, c *Client, w io.Writer, args []string) error {
			ch, err := c.StartChannel(ctx, args[0])
			if err != nil {
				return err
			}
			return o.print(w, ch, func() { fmt.Fprintf(w, "channel %s started (state %s)\n", ch.Name, ch.State) })
		}),
	}

	stop := &cobra.Command{
		Use:   "stop NAME",
		Short: "Disable a channel: drop and refuse its publisher",
		Args:  cobra.ExactArgs(1),
		RunE: o.run(func(ctx context.Context, c *Client, w io.Writer, args []string) error {
			ch, err := c.StopChannel(ctx, args[0])
			if err != nil {
				return err
			}
			return o.print(w, ch, func() { fmt.Fprintf(w, "channel %s stopped\n", ch.Name) })
		}),
	}

	del := &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete a channel",
		Args:  cobra.ExactArgs(1),
		RunE: o.run(func(ctx context.Context, c *Client, w io.Writer, args []string) error {
			if err := c.DeleteChannel(ctx, args[0]); err != nil {
				return err
			}
			if o.json {
				return nil // 204: nothing to print
			}
			fmt.Fprintf(w, "channel %s deleted\n", args[0])
			return nil
		}),
	}

	cmd.AddCommand(create, list, show, start, stop, del, pipeline, token)
	cmd.AddCommand(o.sessionCommands()...)
	return cmd
}

// flags adds the connection flags to cmd and its subcommands.
func (o *cliOptions) flags(cmd *cobra.Command) {
	pf := cmd.PersistentFlags()
	pf.StringVar(&o.api, "api", DefaultAPI, "API base URL (env "+envAPI+")")
	pf.StringVar(&o.token, "token", "", "operator token or tenant API key (env "+envToken+")")
	pf.BoolVar(&o.json, "json", false, "print the API's JSON instead of text")
}

// run adapts a subcommand body: builds the client, silences usage for
// errors that are not about the command line, and shapes the error text.
func (o *cliOptions) run(body func(ctx context.Context, c *Client, w io.Writer, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		cmd.SilenceUsage = true // arguments were fine; don't bury the error in usage
		c, err := o.client(cmd)
		if err != nil {
			return cliError{err}
		}
		ctx := cmd.Context()
		if ctx == nil {
			ctx = context.Background()
		}
		if err := body(ctx, c, cmd.OutOrStdout(), args); err != nil {
			return cliError{err}
		}
		return nil
	}
}

// print writes v as indented JSON with --json, else calls text.
func (o *cliOptions) print(w io.Writer, v any, text func()) error {
	if !o.json {
		text()
		return nil
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode json: %w", err)
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}
