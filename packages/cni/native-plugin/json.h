// Minimal JSON reading for the native istio-cni plugin: values are spans of the input text,
// validated like JSON.parse (RFC 8259), read without building a tree.
#ifndef MESH_CNI_JSON_H
#define MESH_CNI_JSON_H
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef enum { JT_INVALID, JT_NULL, JT_BOOL, JT_NUMBER, JT_STRING, JT_ARRAY, JT_OBJECT } json_type;

typedef struct {
  const char *p; // first byte of the value
  size_t n;      // its length in bytes
} json_span;

json_type json_type_of(json_span v);
// Validates that `text` is exactly one JSON value (surrounding whitespace allowed).
bool json_parse(const char *text, size_t len, json_span *out);
// The member `key` of an object (the last one if repeated, as JSON.parse does).
bool json_get(json_span obj, const char *key, json_span *out);
// Iteration over an array: start with *it = {0}; returns false after the last element.
bool json_next(json_span arr, json_span *it);
// Decoded string value (UTF-8, NUL-terminated, malloc'd); NULL if `v` is not a string.
char *json_string(json_span v);
bool json_is_true(json_span v);
// Writes `v` without insignificant whitespace, replacing the top-level member `key` of an object
// (or appending it) with the string `value` when key != NULL.
void json_write_min(FILE *f, json_span v, const char *key, const char *value);
// Writes `s` as a JSON string literal.
void json_write_string(FILE *f, const char *s);
#endif
