/* SPDX-License-Identifier: BSD-3-Clause
 * dpdns control plane - Corefile reader: tokenizer, imports and snippets, and the parse
 * into server blocks and directive lines (CoreDNS/Caddy v1 grammar). Every token keeps
 * the file and line it came from, so every later error can name them.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/** One token after environment substitution. */
struct cf_token {
	const char *text;   /**< NUL-terminated, env-substituted ({$VAR}, {%VAR%}) */
	const char *file;   /**< file it was read from, as named to the user */
	unsigned line;      /**< 1-based line of its first character */
	bool quoted;        /**< written in double quotes (never a brace) */
	bool nl;            /**< first token of its line (or of an imported file/snippet) */
	char brace;         /**< '{' or '}' for structural braces, else 0 */
};

/**
 * A directive, or one line of a directive's block. tok[0] is the name; a `{ ... }` that
 * follows on the same line is kept as sub-lines (blocks nest).
 */
struct cf_line {
	const struct cf_token *tok; /**< n_tok >= 1 */
	unsigned n_tok;
	const struct cf_line *sub;  /**< lines of the block, NULL when there is none */
	unsigned n_sub;
	bool has_block;             /**< a block followed (it may be empty) */
};

/** A server block: `KEY[,] KEY... { directives }`. */
struct cf_server {
	const struct cf_token *keys; /**< trailing commas stripped, empty keys dropped */
	unsigned n_keys;
	const struct cf_line *dirs;
	unsigned n_dirs;
};

struct cf_file {
	const struct cf_server *srv;
	unsigned n_srv;
	char *dir;                  /**< directory of the main file (for relative paths) */
	/** Files the configuration came from: the main file (as named) first, then every
	 *  imported file, each once, in the order first read (paths as opened). */
	const char *const *files;
	unsigned n_files;
	struct cf_arena *arena;     /**< everything above lives here */
};

/**
 * Read and parse a Corefile, expanding imports (paths relative to the importing file's
 * directory, globs with at most one wildcard, cycles detected) and snippets.
 * @return the parsed file, or NULL with "FILE:LINE: message" in @p err.
 */
struct cf_file *cf_parse_file(const char *path, char *err, size_t errlen);

/**
 * Parse @p text as if it were the file @p name (imports resolve relative to the
 * directory of @p name). For tests and for reloads from memory.
 * @return the parsed file, or NULL with the message in @p err.
 */
struct cf_file *cf_parse_text(const char *name, const char *text, size_t len, char *err,
			      size_t errlen);

/** Free a parsed file (NULL is fine). */
void cf_free(struct cf_file *f);

/**
 * Format "FILE:LINE: " + message into @p err (token may be NULL: no location).
 * @return -EINVAL, so callers can `return cf_errf(...)`.
 */
int cf_errf(char *err, size_t errlen, const struct cf_token *t, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
