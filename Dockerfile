# The platform image: by default it runs `make serve`'s shape (config/serve.py): web
# processes, Celery workers and beat under supervisord (WEB_WORKERS, CELERY_WORKERS).
FROM node:20-bookworm-slim AS widget
WORKDIR /src/frontend
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY frontend/ ./
RUN npm run build

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY requirements.txt ./
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
COPY --from=widget /src/frontend/dist /app/frontend/dist
# collectstatic signs nothing, but settings refuse a weak key: a throw-away random one.
RUN SECRET_KEY="$(python -c 'import secrets; print(secrets.token_urlsafe(50))')" DEBUG=false \
    python manage.py collectstatic --noinput
RUN useradd --system --uid 1000 app && chown -R app /app
USER app
EXPOSE 8000
# --no-proxy-headers: the client address is decided by TRUSTED_PROXIES alone
# (security/client_ip.py), never by uvicorn believing X-Forwarded-For from loopback.
CMD ["sh", "-c", "python -m config.serve --prepare && exec python -m config.serve -- uvicorn config.asgi:application --no-proxy-headers --ws-max-size 65536 --lifespan off --ws config.ws_protocol:BoundedWebSocketProtocol --ws-per-message-deflate false --no-access-log --host 0.0.0.0 --port 8000"]
