package langhost

import (
	"fmt"
	"io"
	"strings"

	"google.golang.org/grpc"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"

	"github.com/tenantstack/tenantstack/internal/version"
)

// Serve starts the gRPC server, prints its port on out as the engine
// expects, and serves until the engine closes it. args are the plugin's
// arguments: flags the engine may pass (ignored) and the engine address.
func Serve(args []string, out io.Writer) error {
	var engine string
	for _, a := range args {
		if !strings.HasPrefix(a, "-") {
			engine = a
		}
	}
	host := New(version.Version, engine)
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, host)
			return nil
		},
	})
	if err != nil {
		return fmt.Errorf("starting the language host: %w", err)
	}
	fmt.Fprintf(out, "%d\n", handle.Port)
	return <-handle.Done
}
