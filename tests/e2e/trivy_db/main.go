// Command trivy_db writes a small Trivy vulnerability database (bbolt, schema 2) for the scan tests: the real
// database cannot be downloaded where the tests run, and the test needs known advisories anyway.
//
// Usage: trivy_db CACHE_DIR SOURCE_PACKAGE:CVE:SEVERITY:FIXED_VERSION...
// Each advisory applies to Debian 13; a package is affected while its installed version is below FIXED_VERSION.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// severityNumber is trivy-db's numbering, used for the per-vendor severity.
var severityNumber = map[string]int{"LOW": 1, "MEDIUM": 2, "HIGH": 3, "CRITICAL": 4}

func put(tx *bolt.Tx, path []string, key string, value interface{}) error {
	bucket, err := tx.CreateBucketIfNotExists([]byte(path[0]))
	for _, name := range path[1:] {
		if err != nil {
			return err
		}
		bucket, err = bucket.CreateBucketIfNotExists([]byte(name))
	}
	if err != nil {
		return err
	}
	encoded, err := json.Marshal(value)
	if err != nil {
		return err
	}
	return bucket.Put([]byte(key), encoded)
}

func write(cache string, advisories []string) error {
	dir := filepath.Join(cache, "db")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	db, err := bolt.Open(filepath.Join(dir, "trivy.db"), 0o600, nil)
	if err != nil {
		return err
	}
	defer db.Close()
	const platform = "debian 13"
	err = db.Update(func(tx *bolt.Tx) error {
		source := map[string]string{"ID": "debian", "Name": "Debian Security Tracker"}
		if err := put(tx, []string{"data-source"}, platform, source); err != nil {
			return err
		}
		for _, spec := range advisories {
			f := strings.Split(spec, ":")
			if len(f) != 4 || severityNumber[f[2]] == 0 {
				return fmt.Errorf("bad advisory %q: want PACKAGE:CVE:SEVERITY:FIXED_VERSION", spec)
			}
			pkg, id, severity, fixed := f[0], f[1], f[2], f[3]
			if err := put(tx, []string{platform, pkg}, id, map[string]string{"FixedVersion": fixed}); err != nil {
				return err
			}
			detail := map[string]interface{}{"Title": "test advisory", "Severity": severity,
				"VendorSeverity": map[string]int{"debian": severityNumber[severity]}}
			if err := put(tx, []string{"vulnerability"}, id, detail); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	meta, err := json.Marshal(map[string]interface{}{
		"Version": 2, "NextUpdate": now.Add(24 * time.Hour), "UpdatedAt": now, "DownloadedAt": now})
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "metadata.json"), meta, 0o600)
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: trivy_db CACHE_DIR PACKAGE:CVE:SEVERITY:FIXED_VERSION...")
		os.Exit(2)
	}
	if err := write(os.Args[1], os.Args[2:]); err != nil {
		fmt.Fprintln(os.Stderr, "trivy_db:", err)
		os.Exit(1)
	}
}
