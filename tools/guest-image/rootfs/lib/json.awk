# Flattens one JSON document into "path<TAB>value" lines, one per scalar:
#   {"meta": {"ping": "10.0.0.3"}, "links": [{"id": "tap1"}]}
# gives
#   meta.ping	10.0.0.3
#   links.0.id	tap1
# Strings are unescaped (\" \\ \/ \n \t; \uXXXX is kept as written); null,
# true, false and numbers are printed as written.  busybox awk, no jq.

function skip() {
    while (pos <= n && index(" \t\r\n", substr(s, pos, 1)))
        pos++
}

function join(path, key) {
    return path == "" ? key : path "." key
}

function parse_value(path,    c) {
    skip()
    c = substr(s, pos, 1)
    if (c == "{")
        parse_object(path)
    else if (c == "[")
        parse_array(path)
    else if (c == "\"")
        emit(path, parse_string())
    else
        parse_literal(path)
}

function parse_object(path,    key, c) {
    pos++
    skip()
    if (substr(s, pos, 1) == "}") {
        pos++
        return
    }
    while (pos <= n) {
        skip()
        key = parse_string()
        skip()
        pos++  # the colon
        parse_value(join(path, key))
        skip()
        c = substr(s, pos, 1)
        pos++
        if (c != ",")
            return
    }
}

function parse_array(path,    i, c) {
    pos++
    skip()
    if (substr(s, pos, 1) == "]") {
        pos++
        return
    }
    i = 0
    while (pos <= n) {
        parse_value(join(path, i))
        i++
        skip()
        c = substr(s, pos, 1)
        pos++
        if (c != ",")
            return
    }
}

function parse_string(    out, c) {
    pos++  # the opening quote
    out = ""
    while (pos <= n) {
        c = substr(s, pos, 1)
        if (c == "\\") {
            pos++
            c = substr(s, pos, 1)
            if (c == "n")
                c = " "
            else if (c == "t")
                c = " "
            else if (c == "u") {
                c = "\\u" substr(s, pos + 1, 4)
                pos += 4
            }
            out = out c
            pos++
            continue
        }
        pos++
        if (c == "\"")
            return out
        out = out c
    }
    return out
}

function parse_literal(path,    start) {
    start = pos
    while (pos <= n && !index(",}] \t\r\n", substr(s, pos, 1)))
        pos++
    emit(path, substr(s, start, pos - start))
}

function emit(path, value) {
    gsub(/[\t\r\n]/, " ", value)
    print path "\t" value
}

{ s = s $0 "\n" }

END {
    n = length(s)
    pos = 1
    parse_value("")
}
