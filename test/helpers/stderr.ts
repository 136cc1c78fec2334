import { vi } from 'vitest'

/** What this process writes on stderr from now until restore(), kept instead of printed. */
export function captureStderr(): { text: () => string; restore: () => void } {
  const chunks: string[] = []
  const write = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    chunks.push(String(chunk))
    return true
  })
  return { text: () => chunks.join(''), restore: () => write.mockRestore() }
}
