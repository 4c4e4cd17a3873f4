namespace Deconv.Reference;

/// <summary>Length checks shared by the reference views.</summary>
internal static class Check
{
    public static void Lengths(ConvGeometry geometry, long dataLength, long expectedData, long weightLength, int biasLength, int biasChannels)
    {
        if (dataLength != expectedData)
        {
            throw new ConvolutionArgumentException($"data has {dataLength} elements but the geometry {geometry} needs {expectedData}", "x");
        }

        if (weightLength != geometry.WeightLength)
        {
            throw new ConvolutionArgumentException($"weight has {weightLength} elements but the geometry needs {geometry.WeightLength} ({Shapes.Format(geometry.WeightShape)})", "w");
        }

        if (biasLength != 0 && biasLength != biasChannels)
        {
            throw new ConvolutionArgumentException($"bias has {biasLength} elements but must have {biasChannels} (one per output channel) or none", "bias");
        }
    }
}
