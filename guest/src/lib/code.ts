// Session codes as people type them: case-insensitive, tolerant of spaces and dashes.

/** Upper-cases and drops everything but letters and digits ("ab-c 12" → "ABC12"). */
export function normalizeCode(input: string): string {
  return input.toUpperCase().replace(/[^A-Z0-9]/g, '');
}
