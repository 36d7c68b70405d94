"""Location parsing and the rule that the output never lands in the source (docs/storage.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from heatmap.errors import LocationError
from heatmap.locations import Location, check_separate, parse_location

# ---------------------------------------------------------------------------------------------- S3 URIs


@pytest.mark.parametrize(
    ("uri", "bucket", "prefix"),
    [
        ("s3://my-bucket/exports/ga4/", "my-bucket", "exports/ga4/"),
        ("s3://my-bucket/exports/ga4", "my-bucket", "exports/ga4/"),  # normalised to end with '/'
        ("s3://my-bucket/", "my-bucket", ""),
        ("s3://my-bucket", "my-bucket", ""),
        ("  s3://my-bucket/x  ", "my-bucket", "x/"),
        ("S3://my-bucket/Exports", "my-bucket", "Exports/"),  # scheme is case-insensitive, the prefix is not
        ("s3://a.b-c.123/求人/", "a.b-c.123", "求人/"),
        ("s3://abc/x", "abc", "x/"),  # 3 characters: the shortest name
        ("s3://" + "a" * 63 + "/x", "a" * 63, "x/"),  # 63: the longest
    ],
)
def test_parse_s3(uri: str, bucket: str, prefix: str) -> None:
    loc = parse_location(uri)
    assert loc == Location("s3", bucket, prefix)
    assert loc.uri == f"s3://{bucket}/{prefix}"
    assert parse_location(loc.uri) == loc  # round trip


@pytest.mark.parametrize(
    "bucket",
    [
        "My-Bucket",
        "my_bucket",
        "ab",
        "a" * 64,
        "-bucket",
        "bucket-",
        ".bucket",
        "my..bucket",
        "192.168.1.10",
        "",
        "bucket name",
    ],
)
def test_parse_s3_bad_bucket(bucket: str) -> None:
    with pytest.raises(LocationError, match="is not a valid S3 bucket name") as info:
        parse_location(f"s3://{bucket}/prefix/")
    assert repr(bucket) in str(info.value)
    assert "lowercase letters" in str(info.value)


@pytest.mark.parametrize("uri", ["s3://bucket//x", "s3://bucket/a//b/", "s3://bucket//"])
def test_parse_s3_empty_segment(uri: str) -> None:
    with pytest.raises(LocationError, match="empty path segment"):
        parse_location(uri)


@pytest.mark.parametrize(
    ("uri", "scheme"),
    [("gs://bucket/x/", "gs"), ("https://bucket.s3.amazonaws.com/x", "https"), ("file:///tmp/x", "file")],
)
def test_parse_unsupported_scheme(uri: str, scheme: str) -> None:
    with pytest.raises(LocationError, match=f"unsupported scheme '{scheme}'") as info:
        parse_location(uri)
    assert "s3://bucket/prefix/" in str(info.value)


@pytest.mark.parametrize("uri", ["", "   ", "\n"])
def test_parse_empty(uri: str) -> None:
    with pytest.raises(LocationError, match="no location given"):
        parse_location(uri)


# ---------------------------------------------------------------------------------------------- local paths


def test_parse_local_relative_is_resolved(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    loc = parse_location("data/../exports")
    assert loc == Location("file", "", str(tmp_path.resolve() / "exports"))
    assert Path(loc.prefix).is_absolute()
    assert loc.uri == loc.prefix


def test_parse_local_home_and_symlinks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    assert parse_location("~/out").prefix == str(tmp_path.resolve() / "out")
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "link").symlink_to(real)
    assert parse_location(str(tmp_path / "link")).prefix == str(real.resolve())


def test_parse_local_path_with_colon_is_not_a_scheme(tmp_path: Path) -> None:
    assert parse_location(str(tmp_path / "a:b")).prefix == str(tmp_path.resolve() / "a:b")


# ---------------------------------------------------------------------------------------------- check_separate


def _loc(text: str) -> Location:
    return parse_location(text)


@pytest.mark.parametrize(
    ("source", "output"),
    [
        ("s3://bkt/src/", "s3://bkt/src-out/"),  # 'src/' is not a prefix of 'src-out/'
        ("s3://bkt/src-out/", "s3://bkt/src/"),
        ("s3://bkt/src", "s3://bkt/srcx"),
        ("s3://bkt/a/src/", "s3://bkt/a/out/"),
        ("s3://bk1/data/", "s3://bk2/data/"),  # different buckets, same prefix
        ("s3://bk1/", "s3://bk2/"),
        ("s3://bkt/data/", "/tmp/b/data"),  # S3 vs a local folder
    ],
)
def test_separate_locations_are_allowed(source: str, output: str) -> None:
    check_separate(_loc(source), _loc(output))


def test_separate_local_siblings_allowed(tmp_path: Path) -> None:
    check_separate(_loc(str(tmp_path / "src")), _loc(str(tmp_path / "src-out")))
    check_separate(_loc(str(tmp_path / "src-out")), _loc(str(tmp_path / "src")))
    check_separate(_loc(str(tmp_path / "a" / "src")), _loc(str(tmp_path / "b" / "src")))


@pytest.mark.parametrize(
    ("source", "output"),
    [
        ("s3://bkt/src/", "s3://bkt/src/"),
        ("s3://bkt/src", "s3://bkt/src/"),  # equal after normalisation
        ("s3://bkt/src/", "s3://bkt/src/runs/"),
        ("s3://bkt/", "s3://bkt/anything/"),  # the whole bucket is the source
    ],
)
def test_output_equal_or_inside_source_refused(source: str, output: str) -> None:
    with pytest.raises(LocationError, match="is the source or inside it") as info:
        check_separate(_loc(source), _loc(output))
    message = str(info.value)
    assert _loc(output).uri in message and _loc(source).uri in message
    assert "choose an output location outside the source" in message


@pytest.mark.parametrize(
    ("source", "output"),
    [("s3://bkt/data/src/", "s3://bkt/data/"), ("s3://bkt/src/", "s3://bkt/"), ("s3://bkt/src/x/", "s3://bkt/src")],
)
def test_output_containing_source_refused(source: str, output: str) -> None:
    with pytest.raises(LocationError, match="contains the source") as info:
        check_separate(_loc(source), _loc(output))
    assert "does not enclose the source" in str(info.value)


def test_local_overlaps_refused(tmp_path: Path) -> None:
    src = tmp_path / "src"
    with pytest.raises(LocationError, match="is the source or inside it"):
        check_separate(_loc(str(src)), _loc(str(src)))
    with pytest.raises(LocationError, match="is the source or inside it"):
        check_separate(_loc(str(src)), _loc(str(tmp_path / "src/../src/")))
    with pytest.raises(LocationError, match="is the source or inside it"):
        check_separate(_loc(str(src)), _loc(str(src / "runs" / "out")))
    with pytest.raises(LocationError, match="contains the source"):
        check_separate(_loc(str(src / "ga4")), _loc(str(tmp_path)))


def test_local_overlap_through_symlink_refused(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (tmp_path / "sneaky").symlink_to(src)
    with pytest.raises(LocationError, match="is the source or inside it"):
        check_separate(_loc(str(src)), _loc(str(tmp_path / "sneaky" / "out")))
