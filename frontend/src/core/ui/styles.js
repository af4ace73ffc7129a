// The core's CSS, injected into the shadow root (the launcher's base style comes with the
// loader). Colours and radius come from custom properties set on the host by the theme.
export const CSS = `
.p{position:fixed;bottom:88px;right:20px;z-index:1;width:360px;height:560px;max-width:calc(100vw - 40px);
max-height:calc(100vh - 108px);display:flex;flex-direction:column;overflow:hidden;box-sizing:border-box;
background:var(--ca-bg,#fff);color:var(--ca-text,#111827);border-radius:var(--ca-radius,12px);
box-shadow:0 12px 40px rgba(17,24,39,.16),0 2px 8px rgba(17,24,39,.08);
font:14px/1.45 var(--ca-font,system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif);
-webkit-font-smoothing:antialiased;animation:ca-in .18s ease-out}
.p[hidden]{display:none}
.p *{box-sizing:border-box}
.left.p{right:auto;left:20px}
@keyframes ca-in{from{opacity:0;transform:translateY(8px)}}
.hd{display:flex;align-items:center;gap:10px;padding:14px 12px 14px 16px;background:var(--ca-primary,#4f46e5);color:var(--ca-on-primary,#fff)}
.av{flex:none;width:36px;height:36px;border-radius:50%;display:flex;align-items:center;justify-content:center;
overflow:hidden;background:rgba(255,255,255,.22);font-weight:600;font-size:16px}
.av img{width:100%;height:100%;object-fit:cover}
.ti{flex:1;min-width:0}
.nm{font-weight:600;font-size:15px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.st{font-size:12px;opacity:.85;min-height:1em}
.x{flex:none;display:flex;padding:6px;margin:0;border:0;border-radius:8px;background:none;color:inherit;cursor:pointer}
.x:hover{background:rgba(255,255,255,.16)}
.x:focus-visible{outline:2px solid currentColor}
.x svg{width:20px;height:20px;fill:currentColor}
.err{padding:8px 16px;background:#fef2f2;color:#991b1b;font-size:13px}
.err[hidden],.ty[hidden],.bd[hidden]{display:none}
.list{flex:1;overflow-y:auto;overscroll-behavior:contain;padding:16px;display:flex;flex-direction:column;gap:8px;background:#f9fafb}
.m{max-width:80%;padding:8px 12px;border-radius:16px;white-space:pre-wrap;overflow-wrap:anywhere}
.m[data-role=agent],.m[data-role=staff]{align-self:flex-start;background:#fff;border:1px solid #e5e7eb;border-bottom-left-radius:4px}
.m[data-role=customer]{align-self:flex-end;background:var(--ca-primary,#4f46e5);color:var(--ca-on-primary,#fff);border-bottom-right-radius:4px}
.m[data-role=system]{align-self:center;max-width:90%;padding:2px 8px;color:#6b7280;font-size:12px;text-align:center}
.m[data-state=sending]{opacity:.6}
.m a{color:inherit;text-decoration:underline}
.ty{display:flex;gap:4px;align-self:flex-start;margin:0 16px 8px;padding:12px;background:#fff;border:1px solid #e5e7eb;border-radius:16px}
.ty span{width:6px;height:6px;border-radius:50%;background:#9ca3af;animation:ca-dot 1.2s infinite}
.ty span:nth-child(2){animation-delay:.2s}.ty span:nth-child(3){animation-delay:.4s}
@keyframes ca-dot{0%,60%,100%{opacity:.35;transform:none}30%{opacity:1;transform:translateY(-3px)}}
.cp{display:flex;align-items:flex-end;gap:8px;padding:10px 12px;border-top:1px solid #e5e7eb;background:var(--ca-bg,#fff)}
.cp textarea{flex:1;min-height:38px;max-height:120px;margin:0;padding:8px 10px;resize:none;border:1px solid #d1d5db;border-radius:10px;
background:#fff;color:#111827;font:inherit;outline:none}
.cp textarea:focus{border-color:var(--ca-primary,#4f46e5);box-shadow:0 0 0 1px var(--ca-primary,#4f46e5)}
.sd{flex:none;width:38px;height:38px;display:flex;align-items:center;justify-content:center;margin:0;padding:0;border:0;border-radius:50%;
background:var(--ca-primary,#4f46e5);color:var(--ca-on-primary,#fff);cursor:pointer}
.sd:disabled{opacity:.4;cursor:default}
.sd:focus-visible{outline:2px solid var(--ca-primary,#4f46e5);outline-offset:2px}
.sd svg{width:18px;height:18px;fill:currentColor}
.ft{padding:6px 0 8px;text-align:center;font-size:11px;color:#9ca3af;background:var(--ca-bg,#fff)}
.l{transition:transform .15s}.l:hover{transform:scale(1.06)}
.l .ic-x{display:none}
.l[aria-expanded=true] .ic-x{display:block}
.l[aria-expanded=true] svg:not(.ic-x){display:none}
.bd{position:absolute;top:-2px;right:-2px;min-width:20px;height:20px;padding:0 6px;border-radius:10px;background:#ef4444;color:#fff;
font:600 12px/20px system-ui,sans-serif;text-align:center;box-sizing:border-box}
@media (max-width:480px){
.p,.left.p{top:0;right:0;bottom:0;left:0;width:100%;height:100%;max-width:none;max-height:none;border-radius:0}
.cp textarea{font-size:16px}
.l[aria-expanded=true]{display:none}
}
@media (prefers-reduced-motion:reduce){.p,.ty span{animation:none}.l{transition:none}}
`;
