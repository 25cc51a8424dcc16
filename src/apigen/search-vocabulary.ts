/**
 * @module The words `search_tools` knows beyond a tool's own text: stop words, abbreviations and
 * groups of words that ask for the same thing. A model or a person asks for "a picture" or to
 * "forget" something; tools say "image" and "delete". The groups are plain English and software
 * vocabulary, not keyed to any server: a word may sit in several groups ("open" an issue creates
 * it, "open" a page navigates to it), and the ranking weighs a group match below a word match.
 */

/** Words that carry no meaning for finding a tool. */
export const STOP_WORDS = new Set(
  (
    "a an the and or but if then else of in on at to for from by with without into onto out " +
    "about as is are was were be been being am do does did doing done has have had having " +
    "i me my mine we us our you your yours he him his she her it its they them their this that " +
    "these those there here whom whose where why how can could should " +
    "would will shall may might must please some any each every just also very really so too " +
    "than such only own same other another one two s t let lets want wanted need needs like " +
    "using use via per tool tools mcp thing things stuff e g eg ie etc"
  ).split(" "),
);

/** Phrases that mean one word, replaced before the words are split. */
export const PHRASES: [RegExp, string][] = [
  [/\bup to date\b/g, "update latest"],
  [/\blook(ing)? up\b/g, "lookup"],
  [/\blog(ged)? ?in\b/g, "login"],
  [/\bsign(ed)? ?in\b/g, "login"],
  [/\bsign(ed)? ?up\b/g, "signup"],
  [/\bmouse ?over\b/g, "hover"],
  [/\bdrag (and|&|n) drop\b/g, "drag drop"],
  [/\bfile ?system\b/g, "filesystem file"],
  [/\bpull ?request\b/g, "pull request"],
];

/** Short forms spelled out before stemming, in documents and queries alike. */
export const ABBREVIATIONS: Record<string, string> = {
  pr: "pull request",
  prs: "pull requests",
  repo: "repository",
  repos: "repositories",
  dir: "directory",
  dirs: "directories",
  env: "environment",
  js: "javascript",
  ts: "typescript",
  db: "database",
  ci: "continuous integration status checks",
  a11y: "accessibility",
  msg: "message",
  img: "image",
  pic: "picture",
  pics: "pictures",
  info: "information",
  config: "configuration",
  docs: "documentation",
  doc: "document",
  auth: "authentication",
  url: "url address",
  urls: "url addresses",
  ok: "accept",
  mkdir: "make directory",
  ls: "list",
  rm: "remove",
  mv: "move",
  cp: "copy",
  cwd: "working directory",
  regex: "regular expression",
  regexp: "regular expression",
  stats: "statistics",
};

/**
 * Groups of words that ask for the same thing. Each word is stemmed when the index is built, so
 * one form of a word is enough. Actions are what a tool does (its name's verb, usually); a query
 * that asks for one action ranks a tool whose name does another lower.
 */
export const ACTION_GROUPS: string[][] = [
  ["create", "make", "new", "add", "start", "open", "init", "initialize", "generate", "build", "insert", "register", "compose", "draft"],
  ["delete", "remove", "erase", "forget", "drop", "destroy", "discard", "clear", "purge", "unlink", "wipe", "rid"],
  ["update", "edit", "modify", "change", "alter", "replace", "patch", "amend", "revise", "set", "rewrite", "adjust"],
  ["get", "read", "fetch", "retrieve", "show", "view", "display", "see", "load", "obtain", "open", "look", "inspect", "print", "dump", "return", "give", "check", "what", "whats", "which"],
  ["list", "enumerate", "browse", "overview", "index", "listing", "what", "whats", "which"],
  ["all", "entire", "whole", "everything", "complete", "full"],
  ["search", "find", "look", "lookup", "query", "locate", "seek", "match", "filter", "grep", "discover", "mention", "contain", "hunt", "which"],
  ["move", "rename", "relocate", "transfer", "shift"],
  ["copy", "duplicate", "clone", "fork"],
  ["write", "save", "store", "persist", "record", "remember", "keep", "memorize", "put", "note", "log", "add"],
  ["link", "connect", "relate", "relation", "relationship", "associate", "tie", "between", "edge", "join"],
  ["run", "execute", "evaluate", "eval", "invoke", "call", "perform", "trigger", "launch"],
  ["click", "press", "tap", "hit"],
  ["type", "enter", "input", "fill", "key"],
  ["navigate", "go", "visit", "open", "browse", "url", "address", "goto"],
  ["back", "previous", "prior", "history", "return"],
  ["close", "quit", "exit", "shut", "end", "dismiss"],
  ["wait", "until", "sleep", "pause", "delay", "appear", "disappear"],
  ["compress", "zip", "gzip", "archive", "pack", "deflate", "shrink"],
  ["sum", "add", "plus", "total", "addition", "calculate", "compute", "arithmetic", "number"],
  ["echo", "repeat", "say", "parrot", "mirror", "reflect"],
  ["toggle", "turn", "switch", "enable", "disable", "on", "off", "activate", "deactivate"],
  ["merge", "combine", "land"],
  ["review", "approve", "reject", "feedback"],
  ["comment", "reply", "remark", "respond", "discuss"],
  ["upload", "attach", "send", "submit", "push"],
  ["multiple", "several", "many", "batch", "bulk", "various", "simultaneously"],
  ["hover", "mouseover", "mouse", "point"],
  ["drag", "drop", "dnd"],
  ["select", "choose", "pick", "option", "dropdown", "combobox"],
  ["resize", "width", "height", "dimension", "bigger", "smaller", "larger", "maximize", "minimize"],
  ["accept", "confirm", "approve", "agree", "yes", "dismiss", "cancel"],
  ["subscribe", "watch", "follow", "listen", "notify", "notification"],
  ["research", "investigate", "study", "explore", "analyze", "deep"],
  ["sort", "order", "rank"],
  ["upgrade", "sync", "synchronize", "rebase", "refresh", "latest"],
];

/** Groups of words for the things tools act on. */
export const THING_GROUPS: string[][] = [
  ["image", "picture", "photo", "png", "jpg", "jpeg", "gif", "logo", "icon", "graphic", "drawing"],
  ["screenshot", "capture", "screen", "snap", "screengrab"],
  ["file", "document", "txt", "text"],
  ["folder", "directory", "subfolder"],
  ["size", "big", "large", "small", "bytes", "length", "weight"],
  ["metadata", "information", "detail", "attribute", "property", "stat", "statistics", "permission", "timestamp", "date", "time", "created", "modified", "when"],
  ["person", "people", "entity", "node", "individual", "someone", "contact", "human", "thing", "object", "who"],
  ["fact", "observation", "note", "detail", "attribute", "property", "knowledge", "statement", "trait"],
  ["graph", "knowledge", "memory", "memories", "brain"],
  ["repository", "project", "codebase"],
  ["issue", "bug", "ticket", "problem", "defect", "task"],
  ["commit", "change", "history", "revision", "changeset"],
  ["branch", "head", "base"],
  ["page", "site", "website", "web", "webpage", "tab", "browser"],
  ["dialog", "popup", "alert", "confirm", "prompt", "modal"],
  ["console", "log", "logging", "output", "devtools"],
  ["environment", "variable", "setting", "configuration"],
  ["request", "network", "http", "traffic", "api", "xhr", "call"],
  ["element", "button", "field", "control", "widget", "input", "link"],
  ["form", "field", "signup", "login", "registration"],
  ["keyboard", "key", "enter", "escape", "shortcut", "keystroke"],
  ["dark", "light", "theme", "color", "scheme", "mode", "appearance"],
  ["accessibility", "aria", "snapshot", "outline", "screenreader"],
  ["tree", "recursive", "structure", "hierarchy", "nested", "subdirectory"],
  ["progress", "long", "operation", "running", "status"],
  ["status", "check", "state", "passing", "failing", "build", "continuous", "integration"],
  ["user", "account", "profile", "member", "username", "login"],
  ["code", "source", "function", "class", "symbol", "snippet"],
  ["javascript", "script", "code", "expression"],
  ["annotation", "annotated", "annotate", "label", "tag", "metadata"],
  ["structured", "schema", "json", "typed"],
  ["resource", "reference", "uri", "blob"],
  ["message", "text", "string"],
];
