using System.Globalization;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Html;
using Microsoft.AspNetCore.Mvc;
using Portal.Audit;
using Portal.Web.Agents;
using Portal.Web.Tenancy;

namespace Portal.Web.Features.Usage;

/// <summary>One bar of a chart, laid out on the server: the page carries SVG, not script.</summary>
public sealed record ChartBar(string Label, long Value, string X, string Y, string Width, string Height, string LabelX, string LabelY);

public sealed record BarChart(IReadOnlyList<ChartBar> Bars, long Max, int Width, int Height);

public sealed record UsagePage(UsageMonth Usage, string MonthTitle, string Previous, string? Next, BarChart PerDay, BarChart Methods);

/// <summary>A tenant's billing usage per month: verifications, actions, unique verified callers.</summary>
[Route("usage")]
[Authorize(Policy = Permissions.UsageRead)]
public sealed class UsageController(IUsageReport usage, TimeProvider clock) : AgentController
{
    [HttpGet("")]
    public async Task<IActionResult> Index([FromQuery] string? month)
    {
        var agent = Current.Agent;
        var now = clock.GetUtcNow().UtcDateTime;
        var current = new DateTime(now.Year, now.Month, 1, 0, 0, 0, DateTimeKind.Utc);
        var shown = current;
        if (!string.IsNullOrEmpty(month))
        {
            if (!DateTime.TryParseExact(month, "yyyy-MM", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var parsed) || parsed > current)
            {
                return BadRequest();
            }

            shown = DateTime.SpecifyKind(parsed, DateTimeKind.Utc);
        }

        var data = await usage.GetMonthAsync(agent.TenantId, shown.Year, shown.Month, HttpContext.RequestAborted);
        var days = DateTime.DaysInMonth(shown.Year, shown.Month);
        var perDay = Enumerable.Range(1, days)
            .Select(d => (d.ToString(CultureInfo.InvariantCulture), data.VerificationsPerDay.GetValueOrDefault(d.ToString("D2", CultureInfo.InvariantCulture))))
            .ToList();
        var methods = data.Verifications
            .Select(m => (m.Key, m.Value.Values.Sum()))
            .OrderByDescending(m => m.Item2)
            .ThenBy(m => m.Key, StringComparer.Ordinal)
            .ToList();
        return View(new UsagePage(
            data,
            shown.ToString("MMMM yyyy", CultureInfo.InvariantCulture),
            shown.AddMonths(-1).ToString("yyyy-MM", CultureInfo.InvariantCulture),
            shown < current ? shown.AddMonths(1).ToString("yyyy-MM", CultureInfo.InvariantCulture) : null,
            Columns(perDay),
            Rows(methods)));
    }

    /// <summary>Vertical bars, one per day.</summary>
    internal static BarChart Columns(IReadOnlyList<(string Label, long Value)> values)
    {
        const int width = 640, height = 200, top = 16, bottom = 20;
        var max = Math.Max(1, values.Count == 0 ? 1 : values.Max(v => v.Value));
        var slot = (double)width / Math.Max(1, values.Count);
        var bars = values.Select((v, i) =>
        {
            var h = (height - top - bottom) * (double)v.Value / max;
            var x = (i * slot) + (slot * 0.15);
            return new ChartBar(v.Label, v.Value, F(x), F(height - bottom - h), F(slot * 0.7), F(h), F((i * slot) + (slot / 2)), F(height - 6));
        }).ToList();
        return new BarChart(bars, max, width, height);
    }

    /// <summary>Horizontal bars, one per method.</summary>
    internal static BarChart Rows(IReadOnlyList<(string Label, long Value)> values)
    {
        const int width = 640, row = 28, labelWidth = 140;
        var height = Math.Max(row, values.Count * row);
        var max = Math.Max(1, values.Count == 0 ? 1 : values.Max(v => v.Value));
        var bars = values.Select((v, i) =>
        {
            var w = (width - labelWidth - 60) * (double)v.Value / max;
            return new ChartBar(v.Label, v.Value, F(labelWidth), F((i * row) + 4), F(w), F(row - 8), F(labelWidth + w + 6), F((i * row) + (row / 2) + 4));
        }).ToList();
        return new BarChart(bars, max, width, height);
    }

    /// <summary>An SVG text element (Razor reserves the text tag); the content is encoded, the attributes are the page's own numbers.</summary>
    public static IHtmlContent SvgText(string cssClass, string x, string y, string content, bool centred = false)
    {
        var html = new HtmlContentBuilder();
        html.AppendHtml($"<text class=\"{cssClass}\" x=\"{x}\" y=\"{y}\"{(centred ? " text-anchor=\"middle\"" : "")}>");
        html.Append(content);
        html.AppendHtml("</text>");
        return html;
    }

    private static string F(double value) => value.ToString("0.##", CultureInfo.InvariantCulture);
}
