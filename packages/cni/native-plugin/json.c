#include "json.h"

#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 64

typedef struct {
  const char *p, *end;
} cursor;

static void ws(cursor *c) {
  while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r')) c->p++;
}

static bool lit(cursor *c, const char *s) {
  size_t n = strlen(s);
  if ((size_t)(c->end - c->p) < n || memcmp(c->p, s, n) != 0) return false;
  c->p += n;
  return true;
}

static bool hex4(const char *p, unsigned *out) {
  unsigned v = 0;
  for (int i = 0; i < 4; i++) {
    char ch = p[i];
    v <<= 4;
    if (ch >= '0' && ch <= '9') v |= (unsigned)(ch - '0');
    else if (ch >= 'a' && ch <= 'f') v |= (unsigned)(ch - 'a' + 10);
    else if (ch >= 'A' && ch <= 'F') v |= (unsigned)(ch - 'A' + 10);
    else return false;
  }
  *out = v;
  return true;
}

static bool skip_string(cursor *c) {
  if (c->p >= c->end || *c->p != '"') return false;
  c->p++;
  while (c->p < c->end) {
    unsigned char ch = (unsigned char)*c->p++;
    if (ch == '"') return true;
    if (ch < 0x20) return false;
    if (ch != '\\') continue;
    if (c->p >= c->end) return false;
    char e = *c->p++;
    unsigned u;
    if (e == 'u') {
      if (c->end - c->p < 4 || !hex4(c->p, &u)) return false;
      c->p += 4;
    } else if (!strchr("\"\\/bfnrt", e)) {
      return false;
    }
  }
  return false;
}

static bool digits(cursor *c) {
  const char *s = c->p;
  while (c->p < c->end && *c->p >= '0' && *c->p <= '9') c->p++;
  return c->p > s;
}

static bool skip_number(cursor *c) {
  if (c->p < c->end && *c->p == '-') c->p++;
  if (c->p < c->end && *c->p == '0') c->p++;
  else if (!digits(c)) return false;
  if (c->p < c->end && *c->p == '.') {
    c->p++;
    if (!digits(c)) return false;
  }
  if (c->p < c->end && (*c->p == 'e' || *c->p == 'E')) {
    c->p++;
    if (c->p < c->end && (*c->p == '+' || *c->p == '-')) c->p++;
    if (!digits(c)) return false;
  }
  return true;
}

static bool skip_value(cursor *c, int depth);

static bool skip_container(cursor *c, int depth, char close, bool object) {
  c->p++;
  ws(c);
  if (c->p < c->end && *c->p == close) {
    c->p++;
    return true;
  }
  for (;;) {
    if (object) {
      if (!skip_string(c)) return false;
      ws(c);
      if (c->p >= c->end || *c->p++ != ':') return false;
      ws(c);
    }
    if (!skip_value(c, depth + 1)) return false;
    ws(c);
    if (c->p >= c->end) return false;
    char ch = *c->p++;
    if (ch == close) return true;
    if (ch != ',') return false;
    ws(c);
  }
}

static bool skip_value(cursor *c, int depth) {
  if (depth > MAX_DEPTH || c->p >= c->end) return false;
  switch (*c->p) {
    case '{': return skip_container(c, depth, '}', true);
    case '[': return skip_container(c, depth, ']', false);
    case '"': return skip_string(c);
    case 't': return lit(c, "true");
    case 'f': return lit(c, "false");
    case 'n': return lit(c, "null");
    default: return skip_number(c);
  }
}

bool json_parse(const char *text, size_t len, json_span *out) {
  cursor c = {text, text + len};
  ws(&c);
  const char *start = c.p;
  if (!skip_value(&c, 0)) return false;
  out->p = start;
  out->n = (size_t)(c.p - start);
  ws(&c);
  return c.p == c.end;
}

json_type json_type_of(json_span v) {
  if (v.n == 0) return JT_INVALID;
  switch (v.p[0]) {
    case '{': return JT_OBJECT;
    case '[': return JT_ARRAY;
    case '"': return JT_STRING;
    case 't':
    case 'f': return JT_BOOL;
    case 'n': return JT_NULL;
    default: return JT_NUMBER;
  }
}

bool json_is_true(json_span v) { return v.n == 4 && memcmp(v.p, "true", 4) == 0; }

static void put_utf8(char **o, unsigned cp) {
  unsigned char *u = (unsigned char *)*o;
  if (cp < 0x80) *u++ = (unsigned char)cp;
  else if (cp < 0x800) {
    *u++ = (unsigned char)(0xC0 | (cp >> 6));
    *u++ = (unsigned char)(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    *u++ = (unsigned char)(0xE0 | (cp >> 12));
    *u++ = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    *u++ = (unsigned char)(0x80 | (cp & 0x3F));
  } else {
    *u++ = (unsigned char)(0xF0 | (cp >> 18));
    *u++ = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    *u++ = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    *u++ = (unsigned char)(0x80 | (cp & 0x3F));
  }
  *o = (char *)u;
}

char *json_string(json_span v) {
  if (json_type_of(v) != JT_STRING) return NULL;
  char *out = malloc(v.n + 1), *o = out; // decoding never grows the text
  if (!out) return NULL;
  for (const char *p = v.p + 1, *end = v.p + v.n - 1; p < end;) {
    if (*p != '\\') {
      *o++ = *p++;
      continue;
    }
    char e = p[1];
    p += 2;
    unsigned cp = 0, lo = 0;
    switch (e) {
      case 'b': *o++ = '\b'; break;
      case 'f': *o++ = '\f'; break;
      case 'n': *o++ = '\n'; break;
      case 'r': *o++ = '\r'; break;
      case 't': *o++ = '\t'; break;
      case 'u':
        hex4(p, &cp);
        p += 4;
        if (cp >= 0xD800 && cp < 0xDC00 && end - p >= 6 && p[0] == '\\' && p[1] == 'u' && hex4(p + 2, &lo) && lo >= 0xDC00 && lo < 0xE000) {
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          p += 6;
        } else if (cp >= 0xD800 && cp < 0xE000) {
          cp = 0xFFFD; // lone surrogate: not representable in UTF-8
        }
        put_utf8(&o, cp);
        break;
      default: *o++ = e; break;
    }
  }
  *o = '\0';
  return out;
}

// Walks the members of an object: *c positioned after '{' or after a member's value.
static bool next_member(cursor *c, json_span *key, json_span *val) {
  ws(c);
  if (c->p < c->end && (*c->p == ',' || *c->p == '{')) c->p++;
  ws(c);
  if (c->p >= c->end || *c->p != '"') return false;
  key->p = c->p;
  skip_string(c);
  key->n = (size_t)(c->p - key->p);
  ws(c);
  c->p++; // ':'
  ws(c);
  val->p = c->p;
  skip_value(c, 0);
  val->n = (size_t)(c->p - val->p);
  return true;
}

static bool key_is(json_span k, const char *key) {
  char *s = json_string(k);
  bool eq = s && strcmp(s, key) == 0;
  free(s);
  return eq;
}

bool json_get(json_span obj, const char *key, json_span *out) {
  if (json_type_of(obj) != JT_OBJECT) return false;
  cursor c = {obj.p, obj.p + obj.n};
  json_span k, v;
  bool found = false;
  while (next_member(&c, &k, &v)) {
    if (key_is(k, key)) {
      *out = v;
      found = true;
    }
  }
  return found;
}

bool json_next(json_span arr, json_span *it) {
  cursor c = {it->p ? it->p + it->n : arr.p, arr.p + arr.n};
  ws(&c);
  if (c.p >= c.end || *c.p == ']') return false;
  c.p++; // '[' or ','
  ws(&c);
  if (c.p >= c.end || *c.p == ']') return false;
  it->p = c.p;
  skip_value(&c, 0);
  it->n = (size_t)(c.p - it->p);
  return true;
}

static void write_min_span(FILE *f, json_span v) {
  bool in_str = false;
  for (size_t i = 0; i < v.n; i++) {
    char ch = v.p[i];
    if (in_str) {
      fputc(ch, f);
      if (ch == '\\') fputc(v.p[++i], f);
      else if (ch == '"') in_str = false;
    } else if (ch == '"') {
      in_str = true;
      fputc(ch, f);
    } else if (ch != ' ' && ch != '\t' && ch != '\n' && ch != '\r') {
      fputc(ch, f);
    }
  }
}

void json_write_min(FILE *f, json_span v, const char *key, const char *value) {
  if (key == NULL || json_type_of(v) != JT_OBJECT) {
    write_min_span(f, v);
    return;
  }
  cursor c = {v.p, v.p + v.n};
  json_span k, val;
  bool first = true, replaced = false;
  fputc('{', f);
  while (next_member(&c, &k, &val)) {
    if (!first) fputc(',', f);
    first = false;
    write_min_span(f, k);
    fputc(':', f);
    if (key_is(k, key)) {
      json_write_string(f, value);
      replaced = true;
    } else {
      write_min_span(f, val);
    }
  }
  if (!replaced) {
    if (!first) fputc(',', f);
    json_write_string(f, key);
    fputc(':', f);
    json_write_string(f, value);
  }
  fputc('}', f);
}

void json_write_string(FILE *f, const char *s) {
  fputc('"', f);
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    switch (*p) {
      case '"': fputs("\\\"", f); break;
      case '\\': fputs("\\\\", f); break;
      case '\n': fputs("\\n", f); break;
      case '\r': fputs("\\r", f); break;
      case '\t': fputs("\\t", f); break;
      case '\b': fputs("\\b", f); break;
      case '\f': fputs("\\f", f); break;
      default:
        if (*p < 0x20) fprintf(f, "\\u%04x", *p);
        else fputc(*p, f);
    }
  }
  fputc('"', f);
}
