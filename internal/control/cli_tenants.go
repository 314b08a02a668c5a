package control

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
)

// TenantCommand returns the `tenant` command: tenants and their API keys,
// through the API, with the same connection flags as `channel`.
func TenantCommand() *cobra.Command {
	o := &cliOptions{}
	cmd := &cobra.Command{
		Use:   "tenant",
		Short: "Create, list and delete tenants and their API keys through the API",
		Long: "Manage tenants and tenant API keys on a running onair server.\n\n" +
			"The API address comes from --api or $" + envAPI + " (default " + DefaultAPI + "),\n" +
			"the token from --token or $" + envToken + " (the operator token, or a tenant admin's key).",
	}
	cmd.SetErrPrefix("onair:")
	o.flags(cmd)

	var name string
	create := &cobra.Command{
		Use:   "create ID",
		Short: "Create a tenant (operators only)",
		Args:  cobra.ExactArgs(1),
		RunE: o.run(func(ctx context.Context, c *Client, w io.Writer, args []string) error {
			t, err := c.CreateTenant(ctx, TenantSpec{ID: args[0], Name: name})
			if err != nil {
				return err
			}
			return o.print(w, t, func() { fmt.Fprintf(w, "tenant %s (%s) created\n", t.ID, t.Name) })
		}),
	}
	create.Flags().StringVar(&name, "name", "", "display name (default the id)")

	list := &cobra.Command{
		Use:   "list",
		Short: "List the tenants the token may see",
		Args:  cobra.NoArgs,
		RunE: o.run(func(ctx context.Context, c *Client, w io.Writer, _ []string) error {
			ts, err := c.ListTenants(ctx)
			if err != nil {
				return err
			}
			return o.print(w, TenantList{Tenants: ts}, func() {
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tNAME\tCREATED")
				for _, t := range ts {
					fmt.Fprintf(tw, "%s\t%s\t%s\n", t.ID, t.Name, t.Created.Format(time.RFC3339))
				}
				tw.Flush()
			})
		}),
	}

	del := &cobra.Command{
		Use:   "delete ID",
		Short: "Delete a tenant that owns no channels and no active keys (operators only)",
		Args:  cobra.ExactArgs(1),
		RunE: o.run(func(ctx context.Context, c *Client, w io.Writer, args []string) error {
			if err := c.DeleteTenant(ctx, args[0]); err != nil {
				return err
			}
			if !o.json {
				fmt.Fprintf(w, "tenant %s deleted\n", args[0])
			}
			return nil
		}),
	}

	key := &cobra.Command{Use: "key", Short: "Create, list and revoke a tenant's API keys"}
	var spec KeySpec
	keyCreate := &cobra.Command{
		Use:   "create TENANT",
		Short: "Create an API key and print it (shown only this once)",
		Args:  cobra.ExactArgs(1),
		RunE: o.run(func(ctx context.Context, c *Client, w io.Writer, args []string) error {
			k, err := c.CreateKey(ctx, args[0], spec)
			if err != nil {
				return err
			}
			return o.print(w, k, func() {
				fmt.Fprintf(w, "key      %s\nid       %s\ntenant   %s\nrole     %s\n(store the key now: it is not shown again)\n", k.Key, k.ID, k.Tenant, k.Role)
			})
		}),
	}
	keyCreate.Flags().StringVar(&spec.Role, "role", "admin", "admin, viewer-issuer or read-only")
	keyCreate.Flags().StringVar(&spec.Description, "description", "", "what the key is for")
	keyList := &cobra.Command{
		Use:   "list TENANT",
		Short: "List a tenant's API keys",
		Args:  cobra.ExactArgs(1),
		RunE: o.run(func(ctx context.Context, c *Client, w io.Writer, args []string) error {
			ks, err := c.ListKeys(ctx, args[0])
			if err != nil {
				return err
			}
			return o.print(w, KeyList{Keys: ks}, func() {
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tROLE\tSTATE\tLAST USED\tDESCRIPTION")
				for _, k := range ks {
					state, used := "active", "-"
					if !k.Active() {
						state = "revoked"
					}
					if !k.LastUsed.IsZero() {
						used = k.LastUsed.Format(time.RFC3339)
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", k.ID, k.Role, state, used, k.Description)
				}
				tw.Flush()
			})
		}),
	}
	keyRevoke := &cobra.Command{
		Use:   "revoke TENANT KEYID",
		Short: "Revoke an API key",
		Args:  cobra.ExactArgs(2),
		RunE: o.run(func(ctx context.Context, c *Client, w io.Writer, args []string) error {
			if err := c.RevokeKey(ctx, args[0], args[1]); err != nil {
				return err
			}
			if !o.json {
				fmt.Fprintf(w, "key %s revoked\n", args[1])
			}
			return nil
		}),
	}
	key.AddCommand(keyCreate, keyList, keyRevoke)
	cmd.AddCommand(create, list, del, key)
	return cmd
}

// sessionCommands are the channel subcommands for viewer sessions.
func (o *cliOptions) sessionCommands() []*cobra.Command {
	sessions := &cobra.Command{
		Use:   "sessions NAME",
		Short: "List a channel's viewer sessions",
		Args:  cobra.ExactArgs(1),
		RunE: o.run(func(ctx context.Context, c *Client, w io.Writer, args []string) error {
			ss, err := c.ListSessions(ctx, args[0])
			if err != nil {
				return err
			}
			return o.print(w, SessionList{Sessions: ss}, func() {
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tSTATE\tREFRESHED\tEXPIRES\tUSER\tIP")
				for _, s := range ss {
					state := "live"
					if s.Revoked != nil {
						state = "revoked"
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", s.ID, state, s.Refreshed.Format(time.RFC3339),
						s.Expires.Format(time.RFC3339), orDash(s.UserID), orDash(s.IP))
				}
				tw.Flush()
			})
		}),
	}
	revoke := &cobra.Command{
		Use:   "revoke-session NAME SESSION",
		Short: "Revoke a viewer session: its tokens stop working within seconds",
		Args:  cobra.ExactArgs(2),
		RunE: o.run(func(ctx context.Context, c *Client, w io.Writer, args []string) error {
			if err := c.RevokeSession(ctx, args[0], args[1]); err != nil {
				return err
			}
			if !o.json {
				fmt.Fprintf(w, "session %s of channel %s revoked\n", args[1], args[0])
			}
			return nil
		}),
	}
	return []*cobra.Command{sessions, revoke}
}
