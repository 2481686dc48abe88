package fleet

import (
	"encoding/json"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
)

// decodeOutputs turns stack outputs into v through their JSON names.
func decodeOutputs(outs auto.OutputMap, v any) error {
	m := make(map[string]any, len(outs))
	for k, o := range outs {
		m[k] = o.Value
	}
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}
