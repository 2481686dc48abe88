//go:build ignore

// embedgen writes schema-embed.json (with the provider version set) and
// terraform-mapping-embed.json next to this file from the copies shipped in
// the provider module. Usage: go run embedgen.go MODULE_DIR VERSION
package main

import (
	"encoding/json"
	"log"
	"os"
	"path/filepath"
)

func main() {
	if len(os.Args) != 3 {
		log.Fatal("usage: go run embedgen.go MODULE_DIR VERSION")
	}
	src := filepath.Join(os.Args[1], "cmd", "pulumi-resource-kubernetes")

	var schema map[string]any
	mustRead(filepath.Join(src, "schema.json"), &schema)
	schema["version"] = os.Args[2]
	mustWrite("schema-embed.json", schema)

	var mapping any
	mustRead(filepath.Join(src, "terraform-mapping.json"), &mapping)
	mustWrite("terraform-mapping-embed.json", mapping)
}

func mustRead(path string, v any) {
	b, err := os.ReadFile(path)
	if err != nil {
		log.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		log.Fatalf("%s: %v", path, err)
	}
}

func mustWrite(path string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		log.Fatal(err)
	}
}
