"""Safety properties of one-file rewriting: encodings, line endings, unparsable input."""

from layer_migrate.codemod import Options, build_index, rewrite_source

V1 = 'ACCEPT = "application/vnd.layer+json; version=1.1"\n'
V3 = 'ACCEPT = "application/vnd.layer+json; version=3.0"\n'


def opts(target="3.0"):
    return Options(index=build_index(target))


def test_crlf_line_endings_are_kept():
    src = ("# -*- coding: utf-8 -*-\r\n" + V1.replace("\n", "\r\n") + "x = 1\r\n").encode()
    out = rewrite_source(src, opts())
    assert out.changed
    assert out.code == ("# -*- coding: utf-8 -*-\r\n" + V3.replace("\n", "\r\n") + "x = 1\r\n").encode()


def test_latin1_source_keeps_its_encoding_and_comments():
    src = ("# -*- coding: latin-1 -*-\n# Grüße an die Entwickler\n" + V1).encode("latin-1")
    out = rewrite_source(src, opts())
    assert out.code == ("# -*- coding: latin-1 -*-\n# Grüße an die Entwickler\n" + V3).encode("latin-1")


def test_utf8_bom_is_kept():
    src = b"\xef\xbb\xbf" + V1.encode()
    out = rewrite_source(src, opts())
    assert out.code == b"\xef\xbb\xbf" + V3.encode()


def test_python2_file_is_skipped_with_a_reason():
    src = b'print "hello"\nACCEPT = "application/vnd.layer+json; version=1.1"\n'
    out = rewrite_source(src, opts())
    assert not out.changed and out.code == src
    assert out.skipped and "does not parse" in out.skipped


def test_files_without_triggers_are_not_parsed():
    src = b"def f(:\n"  # would not parse, but mentions nothing Layer-related
    out = rewrite_source(src, opts())
    assert out.filtered and not out.changed and out.skipped is None


def test_markers_carry_line_numbers():
    src = b'import requests\n\n\ndef f(m):\n    return list(m["recipient_status"].items())  # all\n'
    out = rewrite_source(src + b"URL = '/apps/A/conversations'\n", opts())
    assert [line for line, _ in out.markers] == [5]
    assert out.markers[0][1].startswith("# layer-migrate: v2.recipient_status.keys (R25):")
    assert b'    return list(m["recipient_status"].items())  # all\n' in out.code


def test_disabled_rule_is_not_applied():
    idx = build_index("3.0", disabled=["hdr.accept.v3"])
    out = rewrite_source(V1.encode(), Options(index=idx))
    assert not out.changed


def test_target_2_writes_version_2():
    out = rewrite_source(V1.encode(), opts("2.0"))
    assert out.code == V1.replace("1.1", "2.0").encode()
    assert [e.rule for e in out.events] == ["hdr.accept.v2"]


def test_added_import_follows_crlf_and_the_docstring():
    src = (b'"""Doc."""\r\n\r\n\r\ndef f(requests, users):\r\n'
           b'    return requests.post("/apps/A/conversations", json={"participants": users})\r\n')
    out = rewrite_source(src, opts()).code
    assert out.startswith(b'"""Doc."""\r\nfrom urllib.parse import quote\r\n')
    assert b"\n" not in out.replace(b"\r\n", b"")


def test_output_that_does_not_parse_is_refused(monkeypatch, tmp_path):
    """The post-rewrite check (CPython's parser, AST only) catches our own bug: the file is left
    byte for byte as it was, and the run reports an internal error (exit 2) for it."""
    from layer_migrate.codemod import api
    from layer_migrate.codemod.runner import Settings, process_file

    monkeypatch.setattr(api, "generate", lambda module, spans: b"def broken(:\n")
    out = rewrite_source(V1.encode(), opts())
    assert not out.changed and out.code == V1.encode()
    assert out.skipped.startswith("internal error: rewritten code does not parse")
    assert "please report" in out.skipped

    f = tmp_path / "client.py"
    f.write_bytes(V1.encode())
    res = process_file(str(f), Settings(target="3.0"), "write")
    assert res.error and "internal error: rewritten code does not parse" in res.error
    assert not res.changed
    assert f.read_bytes() == V1.encode()
    assert [p.name for p in tmp_path.iterdir()] == ["client.py"]  # no temp file left behind
