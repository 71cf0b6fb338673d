// The node-type catalogue from GET /api/v1/components, fetched once per page load.
import { useEffect, useState } from "react";
import { api, unwrap, type Schemas } from "../api/client";

export type Catalogue = Schemas["Catalogue"];
let cached: Promise<Catalogue> | null = null;

export function loadCatalogue(): Promise<Catalogue> {
  cached ??= unwrap(api.GET("/api/v1/components")).catch((err: unknown) => {
    cached = null; // try again next time
    throw err;
  });
  return cached;
}

export function useCatalogue(): { catalogue: Catalogue | null; error: unknown } {
  const [catalogue, setCatalogue] = useState<Catalogue | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    let live = true;
    loadCatalogue().then(
      (c) => live && setCatalogue(c),
      (e: unknown) => live && setError(e),
    );
    return () => {
      live = false;
    };
  }, []);
  return { catalogue, error };
}
