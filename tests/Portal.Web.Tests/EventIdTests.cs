using System.Reflection;
using System.Text.RegularExpressions;
using Portal.Web.Platform;
using Portal.Web.Tests.Storage;

namespace Portal.Web.Tests;

/// <summary>Every log line of the product has its own event id (docs/architecture.md, "Log event ids").</summary>
public partial class EventIdTests
{
    [Fact]
    public void EveryLogMessageInTheProduct_HasItsOwnEventId()
    {
        var registry = typeof(PortalEvents).GetFields(BindingFlags.Public | BindingFlags.Static)
            .ToDictionary(f => f.Name, f => (int)f.GetRawConstantValue()!, StringComparer.Ordinal);
        var uses = new List<(int Id, string Where)>();
        var src = Path.Combine(QueryShapeTests.RepositoryRoot(), "src");
        foreach (var file in Directory.EnumerateFiles(src, "*.cs", SearchOption.AllDirectories).Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)))
        {
            var relative = Path.GetRelativePath(src, file);
            foreach (Match m in EventIdAttribute().Matches(File.ReadAllText(file)))
            {
                var value = m.Groups["value"].Value;
                if (relative.StartsWith("Portal.Web", StringComparison.Ordinal))
                {
                    Assert.True(value.StartsWith("PortalEvents.", StringComparison.Ordinal), $"{relative}: the event id {value} is not taken from PortalEvents.");
                }

                var id = value.StartsWith("PortalEvents.", StringComparison.Ordinal) ? registry[value["PortalEvents.".Length..]] : int.Parse(value, System.Globalization.CultureInfo.InvariantCulture);
                uses.Add((id, relative));
            }
        }

        Assert.True(uses.Count >= registry.Count, "The scan found fewer log messages than the registry names.");
        var shared = uses.GroupBy(u => u.Id).Where(g => g.Count() > 1).Select(g => $"{g.Key}: {string.Join(", ", g.Select(u => u.Where))}").ToList();
        Assert.Empty(shared);
        Assert.Equal(registry.Count, registry.Values.Distinct().Count());
    }

    [GeneratedRegex(@"LoggerMessage\(\s*EventId\s*=\s*(?<value>PortalEvents\.\w+|\d+)")]
    private static partial Regex EventIdAttribute();
}
