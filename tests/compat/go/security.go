// The secure scenarios (tests/compat/README.md): the listener, TLS and SASL settings of the
// scenario, from the JSON file the runner names in $COMPAT_SECURITY, applied to every client the
// scenario makes (franz: newClient; sarama: saramaConfig). sarama brings no SCRAM client of its
// own: scramClient below is RFC 5802 on Go's standard library. secure.noacl switches sec's
// credentials between the super user and the user no ACL names (asNoACL) between its steps.
package main

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"os"
	"strconv"
	"strings"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

type security struct {
	proto, mech, user, password string // user, password: what the next client made authenticates as
	bad                         bool
	tls                         *tls.Config
	admin, noacl                [2]string // user, password of the super user and of the user no ACL names
}

var sec *security // the running scenario's, nil outside the secure ones

var secureScenarios = map[string][3]string{ // listener, mechanism, "bad" for a wrong password
	"secure.ssl":                     {"SSL", "", ""},
	"secure.sasl_ssl.scram256":       {"SASL_SSL", "SCRAM-SHA-256", ""},
	"secure.sasl_ssl.scram512":       {"SASL_SSL", "SCRAM-SHA-512", ""},
	"secure.sasl_ssl.plain":          {"SASL_SSL", "PLAIN", ""},
	"secure.sasl_plaintext.scram512": {"SASL_PLAINTEXT", "SCRAM-SHA-512", ""},
	"secure.badpass":                 {"SASL_SSL", "SCRAM-SHA-256", "bad"},
	"secure.noacl":                   {"SASL_SSL", "SCRAM-SHA-512", ""},
}

// secureFor sets sec for scenario s and returns the listener's bootstrap address.
func secureFor(s string) (string, error) {
	row, ok := secureScenarios[s]
	if !ok {
		return "", skipError{"scenario not implemented by this client"}
	}
	path := os.Getenv("COMPAT_SECURITY")
	if path == "" {
		return "", skipError{"the target has no secure listeners (no TLS material)"}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	info := map[string]string{}
	if err := json.Unmarshal(b, &info); err != nil {
		return "", err
	}
	sec = &security{proto: row[0], mech: row[1], bad: row[2] == "bad", user: info["user"], password: info["password"]}
	if sec.mech == "PLAIN" {
		sec.user, sec.password = info["plain_user"], info["plain_password"]
	}
	if sec.bad {
		sec.password = "wrong-password"
	}
	sec.admin, sec.noacl = [2]string{sec.user, sec.password}, [2]string{info["noacl_user"], info["noacl_password"]}
	if strings.Contains(sec.proto, "SSL") {
		pem, err := os.ReadFile(info["ca"])
		if err != nil {
			return "", err
		}
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(pem)
		sec.tls = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return info[sec.proto], nil
}

func newClient(opts ...kgo.Opt) (*kgo.Client, error) {
	if sec != nil {
		if sec.tls != nil {
			opts = append(opts, kgo.DialTLSConfig(sec.tls.Clone()))
		}
		switch sec.mech {
		case "PLAIN":
			opts = append(opts, kgo.SASL(plain.Auth{User: sec.user, Pass: sec.password}.AsMechanism()))
		case "SCRAM-SHA-256":
			opts = append(opts, kgo.SASL(scram.Auth{User: sec.user, Pass: sec.password}.AsSha256Mechanism()))
		case "SCRAM-SHA-512":
			opts = append(opts, kgo.SASL(scram.Auth{User: sec.user, Pass: sec.password}.AsSha512Mechanism()))
		}
	}
	return kgo.NewClient(opts...)
}

func saramaSecurity(c *sarama.Config) {
	if sec == nil {
		return
	}
	if sec.tls != nil {
		c.Net.TLS.Enable = true
		c.Net.TLS.Config = sec.tls.Clone()
	}
	if sec.mech == "" {
		return
	}
	c.Net.SASL.Enable = true
	c.Net.SASL.Handshake = true
	c.Net.SASL.User, c.Net.SASL.Password = sec.user, sec.password
	switch sec.mech {
	case "PLAIN":
		c.Net.SASL.Mechanism = sarama.SASLTypePlaintext
	case "SCRAM-SHA-256":
		c.Net.SASL.Mechanism = sarama.SASLTypeSCRAMSHA256
		c.Net.SASL.SCRAMClientGeneratorFunc = func() sarama.SCRAMClient { return &scramClient{h: sha256.New} }
	case "SCRAM-SHA-512":
		c.Net.SASL.Mechanism = sarama.SASLTypeSCRAMSHA512
		c.Net.SASL.SCRAMClientGeneratorFunc = func() sarama.SCRAMClient { return &scramClient{h: sha512.New} }
	}
}

// asNoACL makes the clients made from now on authenticate as the user no ACL names (true) or as
// the super user (false); a client made before keeps its principal.
func asNoACL(on bool) {
	c := sec.admin
	if on {
		c = sec.noacl
	}
	sec.user, sec.password = c[0], c[1]
}

// isAuthzError: did the broker's authorizer refuse the request (TOPIC_ or GROUP_AUTHORIZATION_FAILED,
// as each library's own error value)? The adapters wrap library errors with %w.
func isAuthzError(err error) bool {
	for _, e := range []error{kerr.TopicAuthorizationFailed, kerr.GroupAuthorizationFailed,
		sarama.ErrTopicAuthorizationFailed, sarama.ErrGroupAuthorizationFailed} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// isAuthError: did the client fail because the broker refused the credentials?
func isAuthError(err error) bool {
	s := strings.ToLower(err.Error())
	return strings.Contains(s, "authentication") || strings.Contains(s, "sasl")
}

// scramClient is sarama's SCRAMClient: client-first, then client-final, then the server's proof.
type scramClient struct {
	h                func() hash.Hash
	user, pass       string
	nonce, firstBare string
	step             int
	serverSig        []byte
	done             bool
}

func (s *scramClient) Begin(user, pass, authz string) error {
	b := make([]byte, 18)
	if _, err := rand.Read(b); err != nil {
		return err
	}
	s.user, s.pass, s.nonce = user, pass, base64.RawURLEncoding.EncodeToString(b)
	return nil
}

func (s *scramClient) hmac(key []byte, data string) []byte {
	m := hmac.New(s.h, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

func (s *scramClient) Step(challenge string) (string, error) {
	s.step++
	switch s.step {
	case 1:
		name := strings.NewReplacer("=", "=3D", ",", "=2C").Replace(s.user)
		s.firstBare = "n=" + name + ",r=" + s.nonce
		return "n,," + s.firstBare, nil
	case 2:
		attrs := map[string]string{}
		for _, kv := range strings.Split(challenge, ",") {
			if len(kv) > 2 && kv[1] == '=' {
				attrs[kv[:1]] = kv[2:]
			}
		}
		salt, err := base64.StdEncoding.DecodeString(attrs["s"])
		iters, err2 := strconv.Atoi(attrs["i"])
		if err != nil || err2 != nil || !strings.HasPrefix(attrs["r"], s.nonce) {
			return "", fmt.Errorf("bad server-first message %q", challenge)
		}
		salted, err := pbkdf2.Key(s.h, s.pass, salt, iters, s.h().Size())
		if err != nil {
			return "", err
		}
		clientKey := s.hmac(salted, "Client Key")
		h := s.h()
		h.Write(clientKey)
		stored := h.Sum(nil)
		noProof := "c=biws,r=" + attrs["r"]
		authMsg := s.firstBare + "," + challenge + "," + noProof
		sig := s.hmac(stored, authMsg)
		for i := range clientKey {
			clientKey[i] ^= sig[i]
		}
		s.serverSig = s.hmac(s.hmac(salted, "Server Key"), authMsg)
		return noProof + ",p=" + base64.StdEncoding.EncodeToString(clientKey), nil
	default:
		if !strings.HasPrefix(challenge, "v=") {
			return "", fmt.Errorf("server-final: %q", challenge)
		}
		got, err := base64.StdEncoding.DecodeString(challenge[2:])
		if err != nil || !hmac.Equal(got, s.serverSig) {
			return "", errors.New("the server's SCRAM signature is wrong")
		}
		s.done = true
		return "", nil
	}
}

func (s *scramClient) Done() bool { return s.done }
