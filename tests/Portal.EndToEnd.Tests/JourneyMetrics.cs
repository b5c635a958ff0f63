using System.Collections.Concurrent;
using System.Globalization;

namespace Portal.EndToEnd.Tests;

/// <summary>
/// Clicks and seconds of the journeys that matter on a call, written next to the test output
/// (<c>journey-metrics.txt</c>) for people reading a run. Nothing asserts on the time: it depends on the machine.
/// </summary>
public static class JourneyMetrics
{
    private static readonly ConcurrentDictionary<string, string> Lines = new(StringComparer.Ordinal);

    public static void Record(string journey, int clicks, TimeSpan elapsed)
    {
        Lines[journey] = string.Create(CultureInfo.InvariantCulture, $"{journey}: {clicks} clicks, {elapsed.TotalSeconds:0.0} s");
        File.WriteAllLines(Path.Combine(AppContext.BaseDirectory, "journey-metrics.txt"), Lines.Values.Order(StringComparer.Ordinal));
    }
}
