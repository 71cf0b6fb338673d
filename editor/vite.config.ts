/// <reference types="vitest/config" />
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// The build goes into the Python package, which ships it: `flowengine serve`
// serves it at / with no Node.js at run time.
export default defineConfig({
  plugins: [react()],
  base: "/",
  build: {
    outDir: "../flowengine/web/dist",
    emptyOutDir: true,
    // elkjs is one large chunk, loaded only when auto-layout is first used
    chunkSizeWarningLimit: 2600,
  },
  server: {
    proxy: { "/api": { target: "http://127.0.0.1:8000", ws: true } },
  },
  test: {
    environment: "jsdom",
    include: ["tests/**/*.test.ts", "tests/**/*.test.tsx"],
  },
});
