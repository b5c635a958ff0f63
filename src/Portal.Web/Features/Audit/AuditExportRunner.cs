using Microsoft.AspNetCore.Http.Features;
using Portal.Audit;
using Portal.Web.Platform;

namespace Portal.Web.Features.Audit;

/// <summary>
/// Runs an export into the response: audited before the first byte (no export happens unaudited) and
/// completed with its row count and filter after the last one.
/// </summary>
public sealed class AuditExportRunner(IAuditTrail audit, IAuditExporter exporter, TimeProvider clock, ILogger<AuditExportRunner> logger)
{
    public async Task RunAsync(HttpContext http, string tenantId, AuditEntry entry, AuditQuery query, AuditExportFormat format)
    {
        var pending = await audit.BeginAsync(entry with { Outcome = AuditOutcome.Pending, Reason = AuditFilterInput.Describe(query, format, null) }, http.RequestAborted);

        var response = http.Response;
        var stamp = clock.GetUtcNow().UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", System.Globalization.CultureInfo.InvariantCulture);
        var (contentType, extension) = format == AuditExportFormat.Csv ? ("text/csv; charset=utf-8", "csv") : ("application/x-ndjson; charset=utf-8", "ndjson");
        response.ContentType = contentType;
        response.Headers.ContentDisposition = $"attachment; filename=\"audit-{tenantId}-{stamp}.{extension}\"";
        response.Headers.CacheControl = "no-store";
        response.Headers.XContentTypeOptions = "nosniff";
        http.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();

        AuditExportResult? result = null;
        try
        {
            result = await exporter.WriteAsync(tenantId, query, format, response.Body, http.RequestAborted);
        }
        finally
        {
            try
            {
                await audit.CompleteAsync(pending, result is null ? AuditOutcome.Failed : AuditOutcome.Succeeded, AuditFilterInput.Describe(query, format, result?.Rows), CancellationToken.None);
            }
            catch (AuditUnavailableException)
            {
                // The export happened; its record stays pending (rows unknown) for the auditors to see.
                PortalLog.AuditCompletionFailed(logger, tenantId, pending.RecordId);
            }
        }
    }
}
