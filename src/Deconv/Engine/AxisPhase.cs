namespace Deconv.Engine;

/// <summary>
/// One output phase of one spatial axis (semantics.md section 6.5). With <c>t = o + CropBegin</c>, the
/// outputs with <c>t mod Stride = r</c> form phase <c>r</c>; they receive only the taps <c>k</c> with
/// <c>k*Dilation mod Stride = r</c>, and output number <c>u</c> of the phase reads input
/// <c>q - Shift[j]</c> through tap <c>Taps[j]</c>, where <c>q = FirstQ + u</c>. So each phase is a
/// dense stride-1 correlation with a sub-kernel.
/// </summary>
/// <param name="FirstOutput">The first output position of the phase.</param>
/// <param name="Count">Number of output positions of the phase (every Stride-th from <paramref name="FirstOutput"/>).</param>
/// <param name="FirstQ"><c>(FirstOutput + CropBegin) div Stride</c>.</param>
/// <param name="Taps">Kernel taps of the phase, ascending (possibly none).</param>
/// <param name="Shifts">For each tap, <c>(tap*Dilation - r) / Stride</c>: how far back in the input it reads.</param>
internal sealed record AxisPhase(int FirstOutput, int Count, long FirstQ, int[] Taps, int[] Shifts)
{
    /// <summary>The <c>Stride</c> phases of an axis, in order of <c>r</c>.</summary>
    public static AxisPhase[] Decompose(AxisGeometry axis)
    {
        var phases = new AxisPhase[axis.Stride];
        for (var r = 0; r < axis.Stride; r++)
        {
            var first = (int)(((r - (long)axis.CropBegin) % axis.Stride + axis.Stride) % axis.Stride);
            var count = first < axis.Output ? (axis.Output - 1 - first) / axis.Stride + 1 : 0;
            var taps = new List<int>();
            var shifts = new List<int>();
            for (var k = 0; k < axis.Kernel; k++)
            {
                var offset = (long)k * axis.Dilation;
                if (offset % axis.Stride == r)
                {
                    taps.Add(k);
                    shifts.Add((int)((offset - r) / axis.Stride));
                }
            }

            phases[r] = new AxisPhase(first, count, ((long)first + axis.CropBegin) / axis.Stride, [.. taps], [.. shifts]);
        }

        return phases;
    }

    /// <summary>Largest shift of the phase (0 without taps).</summary>
    public int MaxShift => Shifts.Length == 0 ? 0 : Shifts[^1];
}
