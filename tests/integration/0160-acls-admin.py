"""ACL administration with real clients: kafka-python's admin client (CreateAcls, DescribeAcls,
DeleteAcls), librdkafka's through `samsa acls`, durability across kill -9, and dump-log.

- No authorizer: DescribeAcls answers SECURITY_DISABLED, CreateAcls too (nothing stored), and every
  request is allowed as before.
- Authorizer on, User:ANONYMOUS a super user: kafka-python creates literal, prefixed, wildcard,
  group and cluster bindings; invalid ones (a CLUSTER not named kafka-cluster, pattern MATCH, a
  principal without a type) fail one by one with INVALID_REQUEST while the others are stored;
  DescribeAcls filters (ANY, MATCH by name, exact principal) select what Kafka's filters select;
  DeleteAcls returns what it removed, a binding matched by two filters under both.
- `samsa acls` adds with --producer/--consumer, lists in kafka-acls' format, removes with --force;
  wrong flags exit 2.
- kill -9 right after the answers: every acknowledged binding is back after the restart, the
  removed ones stay removed; dump-log names acl_create/acl_delete records.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from harness import Broker, run  # noqa: E402
from kafka.admin import (ACL, ACLFilter, ACLOperation, ACLPermissionType,  # noqa: E402
                         ACLResourcePatternType, KafkaAdminClient, ResourcePattern,
                         ResourcePatternFilter, ResourceType)
from kafka import errors as kerr  # noqa: E402

AUTHZ = ["-o", "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer"]
LIT, PRE = ACLResourcePatternType.LITERAL, ACLResourcePatternType.PREFIXED


def acl(principal, op, rtype, name, pattern=LIT, perm=ACLPermissionType.ALLOW, host="*"):
    return ACL(principal=principal, host=host, operation=op, permission_type=perm,
               resource_pattern=ResourcePattern(rtype, name, pattern))


def filt(rtype=ResourceType.ANY, name=None, pattern=ACLResourcePatternType.ANY, principal=None,
         op=ACLOperation.ANY, perm=ACLPermissionType.ANY):
    return ACLFilter(principal=principal, host=None, operation=op, permission_type=perm,
                     resource_pattern=ResourcePatternFilter(rtype, name, pattern))


def key(a):
    rp = a.resource_pattern
    return (int(rp.resource_type), rp.resource_name, int(rp.pattern_type), a.principal, a.host,
            int(a.operation), int(a.permission_type))


def described(admin, f):
    acls, err = admin.describe_acls(f)
    assert err is kerr.NoError, err
    return sorted(key(a) for a in acls)


def no_authorizer():
    with Broker() as b:
        admin = KafkaAdminClient(bootstrap_servers=b.addr)
        try:
            admin.describe_acls(filt())
            raise AssertionError("DescribeAcls without an authorizer succeeded")
        except kerr.SecurityDisabledError:
            pass
        res = admin.create_acls([acl("User:a", ACLOperation.READ, ResourceType.TOPIC, "t")])
        assert not res["succeeded"] and len(res["failed"]) == 1, res
        assert res["failed"][0][1] is kerr.SecurityDisabledError, res
        admin.close()
        cp = run(["acls", "-b", b.addr, "--add", "--allow-principal", "User:a", "--topic", "t"], check=False)
        assert cp.returncode == 1 and "authorizer" in cp.stderr, (cp.returncode, cp.stderr)


def main():
    no_authorizer()
    data = None
    with Broker(extra=AUTHZ + ["-o", "super.users=User:ANONYMOUS"]) as b:
        data = b.data_dir
        admin = KafkaAdminClient(bootstrap_servers=b.addr)
        good = [
            acl("User:alice", ACLOperation.READ, ResourceType.TOPIC, "orders"),
            acl("User:alice", ACLOperation.WRITE, ResourceType.TOPIC, "orders", perm=ACLPermissionType.DENY,
                host="10.0.0.9"),
            acl("User:bob", ACLOperation.WRITE, ResourceType.TOPIC, "logs-", PRE),
            acl("User:*", ACLOperation.DESCRIBE, ResourceType.TOPIC, "*"),
            acl("User:alice", ACLOperation.READ, ResourceType.GROUP, "billing"),
            acl("User:ops", ACLOperation.ALTER, ResourceType.CLUSTER, "kafka-cluster"),
        ]
        bad = [
            acl("User:ops", ACLOperation.ALTER, ResourceType.CLUSTER, "my-cluster"),
            acl("alice", ACLOperation.READ, ResourceType.TOPIC, "orders"),
        ]
        res = admin.create_acls(good[:3] + bad + good[3:])
        assert len(res["succeeded"]) == len(good), res
        assert [e for _, e in res["failed"]] == [kerr.InvalidRequestError] * 2, res["failed"]
        everything = sorted(key(a) for a in good)
        assert described(admin, filt()) == everything
        # creating one again is a success that adds nothing (a set)
        assert len(admin.create_acls(good[:1])["succeeded"]) == 1
        assert described(admin, filt()) == everything
        # MATCH: what applies to topic "logs-app" (the prefixed and the wildcard bindings)
        got = described(admin, filt(ResourceType.TOPIC, "logs-app", ACLResourcePatternType.MATCH))
        assert got == sorted(key(a) for a in (good[2], good[3])), got
        # ANY with a name: exactly that name, any pattern type; LITERAL excludes the prefixed one
        assert described(admin, filt(ResourceType.TOPIC, "logs-")) == [key(good[2])]
        assert described(admin, filt(ResourceType.TOPIC, "logs-", LIT)) == []
        # a filter's principal is exact: "User:*" finds the wildcard binding only
        assert described(admin, filt(principal="User:*")) == [key(good[3])]
        assert described(admin, filt(ResourceType.GROUP)) == [key(good[4])]
        assert described(admin, filt(ResourceType.CLUSTER)) == [key(good[5])]

        # DeleteAcls: per filter, what it removed; a binding two filters select is in both
        out = admin.delete_acls([filt(ResourceType.TOPIC, "orders", LIT, principal="User:alice"),
                                 filt(ResourceType.TOPIC, "orders", LIT, op=ACLOperation.READ),
                                 filt(ResourceType.GROUP, "nothing-here")])
        removed = [sorted(key(a) for a, e in matches) for _, matches, _ in out]
        assert removed == [sorted([key(good[0]), key(good[1])]), [key(good[0])], []], removed
        assert all(e is kerr.NoError for _, matches, _ in out for _, e in matches)
        everything = sorted(key(a) for a in good[2:])
        assert described(admin, filt()) == everything

        # samsa acls (librdkafka's admin API), kafka-acls' flags and output
        cp = run(["acls", "-b", b.addr, "--add", "--allow-principal", "User:app", "--consumer", "--topic", "orders",
                  "--group", "billing"])
        assert ("Adding ACLs for resource `ResourcePattern(resourceType=TOPIC, name=orders, patternType=LITERAL)`: \n"
                " \t(principal=User:app, host=*, operation=READ, permissionType=ALLOW)\n"
                "\t(principal=User:app, host=*, operation=DESCRIBE, permissionType=ALLOW)\n\n") in cp.stdout, cp.stdout
        assert "Current ACLs for resource `ResourcePattern(resourceType=GROUP, name=billing, patternType=LITERAL)`" \
            in cp.stdout, cp.stdout
        cp = run(["acls", "-b", b.addr, "--list", "--topic", "orders"])
        assert cp.stdout.count("(principal=User:app") == 2 and "User:alice" not in cp.stdout, cp.stdout
        cp = run(["acls", "-b", b.addr, "--list", "--cluster"])
        assert "resourceType=CLUSTER, name=kafka-cluster" in cp.stdout and "operation=ALTER" in cp.stdout, cp.stdout
        cp = run(["acls", "-b", b.addr, "--remove", "--force", "--allow-principal", "User:app", "--operation", "Read",
                  "--topic", "orders"])
        assert "operation=READ" not in cp.stdout and "operation=DESCRIBE" in cp.stdout, cp.stdout
        for bad_args in (["--add", "--topic", "t"], ["--add", "--allow-principal", "User:a", "--operation", "Fly",
                                                     "--topic", "t"],
                         ["--add", "--allow-principal", "User:a", "--operation", "Read", "--cluster"],
                         ["--list", "--add"], ["--add", "--allow-principal", "User:a", "--topic", "t",
                                               "--resource-pattern-type", "match"]):
            cp = run(["acls", "-b", b.addr] + bad_args, check=False)
            assert cp.returncode == 2, (bad_args, cp.returncode, cp.stderr)
        left = described(admin, filt())
        admin.close()
        b.kill9()  # every answer above came after its records were durable

        with Broker(data_dir=data, extra=AUTHZ + ["-o", "super.users=User:ANONYMOUS"]) as b2:
            admin = KafkaAdminClient(bootstrap_servers=b2.addr)
            assert described(admin, filt()) == left, "ACLs differ after kill -9 and restart"
            admin.close()
        dump = run(["dump-log", os.path.join(data, "metadata.log")]).stdout
        assert "acl_create" in dump and "acl_delete" in dump and '"principal":"User:bob"' in dump, dump[-800:]
    print("0160: ok")


if __name__ == "__main__":
    main()
