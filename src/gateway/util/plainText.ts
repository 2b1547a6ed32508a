/** A one-line plain-text rendering of a Markdown snippet (no emphasis markers, code fences or links). */
export function plainText(md: string): string {
  return (
    md
      .replace(/```[\w-]*\n?/g, ' ')
      .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
      .replace(/(\*\*|__|\*|_|~~|`)(?=\S)([^]*?\S)\1/g, '$2')
      .replace(/^#{1,6}\s+|^>\s?|^\s*[-*+]\s+/gm, '')
      // A marker left unpaired (a summary cut before its closing **) is dropped too.
      .replace(/\*\*|~~|`/g, '')
      .replace(/\s+/g, ' ')
      .trim()
  );
}
