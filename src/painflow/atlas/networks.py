"""Coarse networks (or lobes) of the regions of the named atlases."""

from __future__ import annotations

NO_NETWORK = "n/a"

# Coarse lobes of the AAL regions, first matching name prefix wins. As in AAL
# (Tzourio-Mazoyer et al. 2002), the temporal poles belong to the limbic lobe
# and the fusiform gyrus to the occipital lobe.
AAL_NETWORKS = (
    ("Temporal_Pole", "Limbic"),
    ("Cingulum", "Limbic"),
    ("Hippocampus", "Limbic"),
    ("ParaHippocampal", "Limbic"),
    ("Amygdala", "Limbic"),
    ("Insula", "Insula"),
    ("Precentral", "Frontal"),
    ("Frontal", "Frontal"),
    ("Rolandic_Oper", "Frontal"),
    ("Supp_Motor_Area", "Frontal"),
    ("Olfactory", "Frontal"),
    ("Rectus", "Frontal"),
    ("Paracentral_Lobule", "Frontal"),
    ("Postcentral", "Parietal"),
    ("Parietal", "Parietal"),
    ("SupraMarginal", "Parietal"),
    ("Angular", "Parietal"),
    ("Precuneus", "Parietal"),
    ("Calcarine", "Occipital"),
    ("Cuneus", "Occipital"),
    ("Lingual", "Occipital"),
    ("Occipital", "Occipital"),
    ("Fusiform", "Occipital"),
    ("Heschl", "Temporal"),
    ("Temporal", "Temporal"),
    ("Caudate", "Subcortical"),
    ("Putamen", "Subcortical"),
    ("Pallidum", "Subcortical"),
    ("Thalamus", "Subcortical"),
    ("Cerebelum", "Cerebellum"),
    ("Vermis", "Cerebellum"),
)

# AAL3 regions that the AAL lobe rules above do not name.
AAL3_NETWORKS = (
    ("OFC", "Frontal"),
    ("Cingulate_", "Limbic"),
    ("ACC_", "Limbic"),
    ("Cerebellum_", "Cerebellum"),
    ("Thal_", "Subcortical"),
    ("N_Acc", "Subcortical"),
    # Midbrain and brainstem nuclei.
    ("VTA", "Subcortical"),
    ("SN_", "Subcortical"),
    ("Red_N", "Subcortical"),
    ("LC_", "Subcortical"),
    ("Raphe", "Subcortical"),
)
HCPEX_CORTICAL_AREAS = 360


def aal_network(name: str) -> str:
    """Return the coarse lobe of an AAL region name.

    Parameters
    ----------
    name : str
        An AAL region name, e.g. ``"Frontal_Sup_L"``.

    Returns
    -------
    str
        One of Frontal, Temporal, Parietal, Occipital, Limbic, Insula,
        Subcortical, Cerebellum.

    Raises
    ------
    ValueError
        For a name that no rule of :data:`AAL_NETWORKS` matches.
    """
    for prefix, network in AAL_NETWORKS:
        if name.startswith(prefix):
            return network
    raise ValueError(f"no network for AAL region {name!r}")


# The Yeo 2011 network of a Schaefer region, from the name's network field
# (7Networks_LH_Vis_1, 17Networks_RH_SomMotB_Cent_2): first matching prefix.
SCHAEFER_NETWORK_NAMES = (
    ("Vis", "Visual"),
    ("SomMot", "Somatomotor"),
    ("DorsAttn", "DorsalAttention"),
    ("SalVentAttn", "SalienceVentralAttention"),
    ("Limbic", "Limbic"),
    ("Cont", "Control"),
    ("Default", "Default"),
    ("TempPar", "TemporalParietal"),
)


def schaefer_network(region: str) -> str:
    """The Yeo 2011 network of a Schaefer region name.

    Parameters
    ----------
    region : str
        e.g. ``7Networks_LH_Vis_1`` or ``17Networks_RH_DefaultA_PFCm_3``.

    Returns
    -------
    str
        e.g. ``Visual``, ``Default``; ``n/a`` for a name of another form.
    """
    fields = region.split("_")
    if len(fields) < 3 or not fields[0].endswith("Networks"):
        return NO_NETWORK
    for prefix, network in SCHAEFER_NETWORK_NAMES:
        if fields[2].startswith(prefix):
            return network
    return NO_NETWORK


def region_network(atlas_name: str, index: int, region: str) -> str:
    """The coarse network (or lobe) of a named atlas's region.

    Parameters
    ----------
    atlas_name : str
        A named atlas (``AAL``, ``AAL3``, ``HCPEx``, ``Schaefer2018_*``).
    index : int
        The region's label.
    region : str
        The region's name.

    Returns
    -------
    str
        Its lobe (AAL, AAL3), ``Cortex``/``Subcortical`` (HCPEx), its Yeo
        2011 network (Schaefer), or ``n/a``.
    """
    if atlas_name in ("AAL", "AAL3"):
        for prefix, network in AAL3_NETWORKS:
            if region.startswith(prefix):
                return network
        try:
            return aal_network(region)
        except ValueError:
            return NO_NETWORK
    if atlas_name == "HCPEx":
        return "Cortex" if index <= HCPEX_CORTICAL_AREAS else "Subcortical"
    if atlas_name.startswith("Schaefer2018_"):
        return schaefer_network(region)
    return NO_NETWORK
